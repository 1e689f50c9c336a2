// Test project: uses the schema generated from echo_service.h.
#include <capnp/message.h>

#include <cstdio>

#include "echo_service.capnp.h"
#include "echo_service.h"

int unrelatedValue();

int main() {
  capnp::MallocMessageBuilder message;
  auto ping = message.initRoot<wrapper_demo::schema::Ping>();
  ping.setText("hello");
  ping.setCount(static_cast<uint32_t>(unrelatedValue()));
  std::printf("probe %s %u\n", ping.asReader().getText().cStr(), ping.asReader().getCount());
  return 0;
}
