// Test project: C++ through moonpool-clang++, linked with C from moonpool-clang.
#include <cstdio>

extern "C" int moonpoolHello(int value);

struct [[moonpool::message]] Probe {
  int value;
};

int main() {
  Probe probe{moonpoolHello(41)};
  std::printf("probe %d\n", probe.value);
  return probe.value == 42 ? 0 : 1;
}
