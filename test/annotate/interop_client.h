// A Cap'n Proto client written without moonpool, for the interop test (interop_test.cpp).
// It knows the service only through the schema moonpool-annotate generated, via the code
// stock `capnp compile -oc++` made from it (all_types.capnp.h); it is built as its own library
// with no moonpool include path or library, so any dependency on moonpool fails to compile.
#pragma once

#include <capnp/capability.h>
#include <kj/async.h>
#include <kj/exception.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace interop {

// What the plain client saw; filled by callEchoPlainly.
struct PlainResults {
  std::string echoedText;
  bool echoedFlag = false;
  std::vector<int32_t> echoedInts;
  bool echoedMaybeIntSet = false;
  int32_t echoedMaybeInt = 0;
  std::vector<std::pair<std::string, uint64_t>> echoedCounters;
  bool foundSet = false;
  std::string found;
  bool notFoundSet = true;
  std::vector<std::pair<std::string, std::string>> scanned;
  std::vector<uint8_t> bytes;
  bool negated = false;
  bool pinged = false;
  bool failThrew = false;
  kj::Exception::Type failType = kj::Exception::Type::FAILED;
  std::string failDescription;
};

// Calls every kind of method of the Echo service behind `bootstrap` concurrently, with KJ
// promises only. `out` must outlive the returned promise.
kj::Promise<void> callEchoPlainly(capnp::Capability::Client bootstrap, PlainResults& out);

}  // namespace interop
