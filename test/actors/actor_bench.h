// Shared by the actor benchmarks (actor_bench.cpp in simulation, actor_bench_real.cpp over
// loopback): the call batch, the baseline service, and the loops both worlds run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>

#include "actor_cluster_testing.h"

namespace actortest {

// Calls per benchmark iteration (64; MOONPOOL_BENCH_CALLS sets it).
extern int batchCalls;

class ProbeImpl final : public Probe {
 public:
  // implements Probe
  Task<int64_t> get() override { co_return 7; }
};

inline void countCalls(benchmark::State& state, const RunOutcome& outcome) {
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batchCalls);
}

// Calls `counter.get()` batchCalls times per iteration, after one call outside the timing.
inline Task<void> getLoop(benchmark::State* state, ActorRef<Counter> counter) {
  co_await counter.get();
  for (auto _ : *state) {
    for (int i = 0; i < batchCalls; ++i) benchmark::DoNotOptimize(co_await counter.get());
  }
}

// A call to a fresh key each time (Gossip: no onActivate, no journal).
inline Task<void> activateLoop(benchmark::State* state, ActorRuntime& runtime) {
  std::int64_t key = 0;
  for (auto _ : *state) {
    for (int i = 0; i < batchCalls; ++i) {
      benchmark::DoNotOptimize(co_await runtime.ref<Gossip>(++key).relay({}, 0));
    }
  }
}

// Wallet::deposit batchCalls times per iteration, on a fresh key each iteration (so the
// state, whose history grows by a line per deposit, stays under batchCalls lines); the
// activation and load of each key are outside the timing.
inline Task<void> depositLoop(benchmark::State* state, moonpool::actors::StateStore& store,
                              Providers providers) {
  ActorRuntime runtime(providers);
  runtime.setStateStore(store);
  runtime.add<Wallet>([](ActorContext& context) { return std::make_unique<Wallet>(context); });
  std::int64_t batch = 0;
  for (auto _ : *state) {
    state->PauseTiming();
    ActorRef<Wallet> wallet = runtime.ref<Wallet>("w" + std::to_string(++batch));
    co_await wallet.balance();
    state->ResumeTiming();
    for (int i = 0; i < batchCalls; ++i) benchmark::DoNotOptimize(co_await wallet.deposit(1));
  }
}

}  // namespace actortest
