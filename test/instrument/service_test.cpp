// Goal: moonpool_add_service inside the moonpool build generates, compiles and links the
// Cap'n Proto code for an annotated header (test/instrument/CMakeLists.txt calls it on
// inputs/echo_service.h), and the generated types carry the header's fields.
// Method: build and read back a message of the generated schema type.
#include <gtest/gtest.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "echo_service.capnp.h"
#include "echo_service.h"

namespace moonpool::instrument::testing {
namespace {

TEST(MoonpoolAddService, GeneratedSchemaRoundTrips) {
  capnp::MallocMessageBuilder builder;
  auto ping = builder.initRoot<wrapper_demo::schema::Ping>();
  ping.setText("hello");
  ping.setCount(3);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  capnp::FlatArrayMessageReader reader(words);
  auto read = reader.getRoot<wrapper_demo::schema::Ping>();
  EXPECT_EQ(std::string(read.getText().cStr()), "hello");
  EXPECT_EQ(read.getCount(), 3u);
  // The interface exists with the header's method.
  using Echo = wrapper_demo::schema::Echo;
  EXPECT_NE(capnp::typeId<Echo>(), 0u);
}

}  // namespace
}  // namespace moonpool::instrument::testing
