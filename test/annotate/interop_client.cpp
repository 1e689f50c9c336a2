// The plain Cap'n Proto client of the interop test (see interop_client.h): only capnp's API
// and the capnp-generated all_types.capnp.h.
#include "interop_client.h"

#include "all_types.capnp.h"

namespace interop {
namespace {

using roundtrip::schema::Echo;

kj::Promise<void> callEcho(Echo::Client echo, PlainResults& out) {
  auto request = echo.echoRequest();
  auto value = request.initValue();
  value.setText("plain capnp");
  value.initScalars().setFlag(true);
  auto ints = value.initInts(3);
  for (unsigned i = 0; i < ints.size(); ++i) ints.set(i, static_cast<int32_t>(i * 10) - 5);
  value.initMaybeInt().setValue(42);
  auto counters = value.initCounters(2);
  counters[0].setKey("a");
  counters[0].setValue(1);
  counters[1].setKey("b");
  counters[1].setValue(2);
  return request.send().then([&out](capnp::Response<Echo::EchoResults>&& response) {
    auto result = response.getResult();
    out.echoedText = result.getText();
    out.echoedFlag = result.getScalars().getFlag();
    for (int32_t i : result.getInts()) out.echoedInts.push_back(i);
    out.echoedMaybeIntSet = result.getMaybeInt().isValue();
    if (out.echoedMaybeIntSet) out.echoedMaybeInt = result.getMaybeInt().getValue();
    for (auto entry : result.getCounters()) {
      out.echoedCounters.emplace_back(entry.getKey(), entry.getValue());
    }
  });
}

kj::Promise<void> callFind(Echo::Client echo, roundtrip::schema::Color color, bool& set,
                           std::string* text) {
  auto request = echo.findRequest();
  request.setKey("k");
  request.setColor(color);
  return request.send().then([&set, text](capnp::Response<Echo::FindResults>&& response) {
    set = response.getResult().isValue();
    if (set && text != nullptr) *text = response.getResult().getValue();
  });
}

kj::Promise<void> callScanAndBytes(Echo::Client echo, PlainResults& out) {
  auto scan = echo.scanRequest();
  scan.setFromKey("row");
  scan.setLimit(2);
  auto bytes = echo.bytesRequest();
  const uint8_t data[] = {1, 2};
  bytes.setData(kj::arrayPtr(data, sizeof(data)));
  auto scanned = scan.send().then([&out](capnp::Response<Echo::ScanResults>&& response) {
    for (auto entry : response.getResult()) {
      out.scanned.emplace_back(entry.getKey(), entry.getValue());
    }
  });
  auto echoed = bytes.send().then([&out](capnp::Response<Echo::BytesResults>&& response) {
    for (uint8_t byte : response.getResult()) out.bytes.push_back(byte);
  });
  return scanned.then([echoed = kj::mv(echoed)]() mutable { return kj::mv(echoed); });
}

kj::Promise<void> callSmallOnes(Echo::Client echo, PlainResults& out) {
  auto negate = echo.negateRequest();
  negate.setValue(false);
  auto negated = negate.send().then([&out](capnp::Response<Echo::NegateResults>&& response) {
    out.negated = response.getResult();
  });
  auto pinged = echo.pingRequest().send().then(
      [&out](capnp::Response<Echo::PingResults>&&) { out.pinged = true; });
  return negated.then([pinged = kj::mv(pinged)]() mutable { return kj::mv(pinged); });
}

// A server error arrives as a kj::Exception carrying its type and description.
kj::Promise<void> callFail(Echo::Client echo, PlainResults& out) {
  auto request = echo.failRequest();
  request.setKind(1);  // moonpool's ErrorKind::kOverloaded
  return request.send().then(
      [&out](capnp::Response<Echo::FailResults>&&) { out.failThrew = false; },
      [&out](kj::Exception&& error) {
        out.failThrew = true;
        out.failType = error.getType();
        out.failDescription = error.getDescription();
      });
}

}  // namespace

kj::Promise<void> callEchoPlainly(capnp::Capability::Client bootstrap, PlainResults& out) {
  Echo::Client echo = bootstrap.castAs<Echo>();
  auto calls = kj::heapArrayBuilder<kj::Promise<void>>(6);
  calls.add(callEcho(echo, out));
  calls.add(callFind(echo, roundtrip::schema::Color::K_GREEN, out.foundSet, &out.found));
  calls.add(callFind(echo, roundtrip::schema::Color::K_RED, out.notFoundSet, nullptr));
  calls.add(callScanAndBytes(echo, out));
  calls.add(callSmallOnes(echo, out));
  calls.add(callFail(echo, out));
  return kj::joinPromises(calls.finish());
}

}  // namespace interop
