// The world configuration of one seed, derived from ChaosOptions (runtime/ runner layer,
// private).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "moonpool/runner/builder.h"
#include "moonpool/sim/world.h"

namespace moonpool::internal {

// Whether the chaos phase runs SimNetwork::chaos() episodes (partitions, clogs, swizzles).
enum class NetworkEpisodes : std::uint8_t { kOff, kOn };

struct SeedConfig {
  WorldOptions world{};
  std::optional<AttritionOptions> attrition{};  // nullopt: no attrition this seed
  NetworkEpisodes episodes = NetworkEpisodes::kOff;

  // The whole configuration on a few lines, printed next to a failing seed.
  std::string toString() const;
};

// Every draw comes from `config`, a stream derived from the seed ("swarm"): never from the
// counted main stream.
SeedConfig deriveSeedConfig(const ChaosOptions& chaos, RandomStream& config);

// `options` with every storage fault off (performance model kept): the settle phase.
StorageOptions withoutStorageFaults(StorageOptions options);

}  // namespace moonpool::internal
