// A Cap'n Proto client of the KV store written without moonpool, for kv_interop_test.cpp.
// It knows the store only through two schemas, via the code stock `capnp compile -oc++`
// made from them: the hub every moonpool host serves (capnp/include/moonpool/rpc/
// hub.capnp) and the store's protocol that moonpool-annotate generated from
// examples/kv/kv_service.h (kv_service.capnp). It is built as its own library with no
// moonpool include path or library, so any dependency on moonpool fails to compile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace plain_kv {

// What the plain client saw, in plain types (statuses by their schema enumerant names,
// "kOk", "kNotReady", ...).
struct Session {
  std::string error;  // set when something failed outright (connect, a call that threw)
  std::uint32_t connectAttempts = 0;
  std::uint64_t pingNonce = 0;
  std::uint64_t incarnation = 0;
  std::vector<std::string> services;  // what the hub says it serves
  std::string unknownLookupError;     // the description of lookup("no::Such")'s failure
  std::uint32_t putAttempts = 0;
  std::string putStatus;
  std::string getStatus;
  std::string found;  // "kYes" / "kNo"
  std::uint64_t version = 0;
  std::string value;
};

// Connects to a kv_node at 127.0.0.1:`port` (retrying the connect for up to `waitMs`),
// pings the hub, lists its services, looks the store up by its name, PUTs key := value at
// `version` (retrying while the store answers kNotReady or kUnavailable, for up to
// `waitMs`) and GETs it back. Runs its own KJ event loop on the calling thread.
Session putAndGet(std::uint16_t port, const std::string& key, std::uint64_t version,
                  const std::string& value, std::uint32_t waitMs);

}  // namespace plain_kv
