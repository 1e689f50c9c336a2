// ActorKey <-> wire::Key (private to the actor cluster's sources).
#pragma once

#include "moonpool/actors/actor.h"
#include "wire.capnp.h"

namespace moonpool::actors::internal {

inline void toWire(const ActorKey& key, wire::Key::Builder out) {
  if (key.isNumber()) {
    out.setNumber(key.number());
  } else {
    out.setText(key.text());
  }
}

inline ActorKey fromWire(wire::Key::Reader key) {
  if (key.isNumber()) return ActorKey(key.getNumber());
  return ActorKey(std::string(key.getText().cStr()));
}

}  // namespace moonpool::actors::internal
