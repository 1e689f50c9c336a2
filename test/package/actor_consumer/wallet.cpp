// The Wallet actor (wallet.h). Its methods are defined here, after the generated glue
// (wallet.moonpool.h), which declares how a Purse is serialized: ActorState<Purse> needs that
// where it loads or writes, so a header's inline body could not use it.
#include "wallet.h"

#include "wallet.moonpool.h"

namespace guide {

moonpool::Task<void> Wallet::onActivate() { co_await state_.load(); }

moonpool::Task<int64_t> Wallet::deposit(int64_t amount) {
  // Read, wait for the write, then answer: a turn holds across its co_awaits, so concurrent
  // deposits to one wallet never interleave here.
  const int64_t after = state_.value().balance + amount;
  state_.value().balance = after;
  co_await state_.write();
  co_return after;
}

moonpool::Task<int64_t> Wallet::balance() { co_return state_.value().balance; }

}  // namespace guide
