// A virtual actor from an installed moonpool (README.md, "Virtual actors"): a wallet keyed by
// its owner's name, one call at a time, its balance kept in durable state.
#pragma once

#include <cstdint>

#include "moonpool/actors/actor.h"
#include "moonpool/actors/state.h"
#include "moonpool/task.h"

namespace guide {

struct [[moonpool::message]] Purse { int64_t balance = 0; };

class [[moonpool::actor]] Wallet {
 public:
  explicit Wallet(moonpool::actors::ActorContext& context) : state_(context) {}
  moonpool::Task<int64_t> deposit(int64_t amount);           // a turn of its own
  [[moonpool::reentrant]] moonpool::Task<int64_t> balance(); // interleaves with turns
  moonpool::Task<void> onActivate();                         // hooks: not remote
 private:
  moonpool::actors::ActorState<Purse> state_;
};

}  // namespace guide
