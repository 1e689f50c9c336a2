// Shared by the actor tests: a runtime with the test actors registered, run in a seeded
// Simulation, and a helper that turns an ActorError into its ActorFailure.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "counter_actor.h"
#include "counter_actor.moonpool.h"
#include "moonpool/actors/runtime.h"
#include "moonpool/sim/simulation.h"

namespace actortest {

using moonpool::Providers;
using moonpool::RunOutcome;
using moonpool::Simulation;
using moonpool::SimOptions;
using moonpool::Task;
using moonpool::actors::ActorContext;
using moonpool::actors::ActorError;
using moonpool::actors::ActorFailure;
using moonpool::actors::ActorOptions;
using moonpool::actors::ActorRef;
using moonpool::actors::ActorRuntime;

inline constexpr std::uint64_t kSeeds = 10;

inline void registerActors(ActorRuntime& runtime, Journal& journal) {
  runtime.add<Counter>([&journal](ActorContext& context) {
    return std::make_unique<Counter>(context, journal);
  });
  runtime.add<Gossip>([&journal](ActorContext& context) {
    return std::make_unique<Gossip>(context, journal);
  });
}

// Runs `scenario(runtime, journal)` inside a simulation of `seed`.
template <typename Scenario>
void runScenario(std::uint64_t seed, Scenario scenario, ActorOptions options = {}) {
  Simulation sim(SimOptions{.seed = seed});
  auto main = [](Providers providers, ActorOptions options, Scenario scenario) -> Task<void> {
    Journal journal;
    ActorRuntime runtime(providers, options);
    registerActors(runtime, journal);
    co_await scenario(runtime, journal);
  };
  RunOutcome outcome = sim.run(main(sim.providers(), options, std::move(scenario)));
  ASSERT_TRUE(outcome.ok()) << "seed " << seed << ": " << outcome.message;
}

// Awaits `task` and returns the ActorFailure it threw (fails the test if it did not).
template <typename T>
Task<std::optional<ActorFailure>> failureOf(Task<T> task, std::string* message = nullptr) {
  try {
    co_await std::move(task);
  } catch (const ActorError& error) {
    if (message != nullptr) *message = error.what();
    co_return error.failure();
  }
  co_return std::nullopt;
}

}  // namespace actortest
