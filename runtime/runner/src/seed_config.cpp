// Per-seed world configuration (see seed_config.h).
#include "seed_config.h"

#include "moonpool/check.h"

namespace moonpool {

std::string_view faultProfileName(FaultProfile profile) {
  switch (profile) {
    case FaultProfile::kQuiet:
      return "quiet";
    case FaultProfile::kGiven:
      return "given";
    case FaultProfile::kChaotic:
      return "chaotic";
    case FaultProfile::kSwarm:
      return "swarm";
  }
  internal::checkFailed("known FaultProfile", std::to_string(static_cast<int>(profile)),
                        std::source_location::current());
}

std::string_view attritionName(Attrition attrition) {
  switch (attrition) {
    case Attrition::kOff:
      return "off";
    case Attrition::kOn:
      return "on";
    case Attrition::kSwarm:
      return "swarm";
  }
  internal::checkFailed("known Attrition", std::to_string(static_cast<int>(attrition)),
                        std::source_location::current());
}

namespace internal {
namespace {

NetworkOptions deriveNetwork(const ChaosOptions& chaos, RandomStream& config) {
  switch (chaos.network) {
    case FaultProfile::kQuiet:
      return NetworkOptions::quiet();
    case FaultProfile::kGiven:
      return chaos.givenNetwork;
    case FaultProfile::kChaotic:
      return NetworkOptions::chaotic(config);
    case FaultProfile::kSwarm:
      return NetworkOptions::chaotic(config).swarm(config);
  }
  internal::checkFailed("known FaultProfile", "network", std::source_location::current());
}

StorageOptions deriveStorage(const ChaosOptions& chaos, RandomStream& config) {
  switch (chaos.storage) {
    case FaultProfile::kQuiet:
      return StorageOptions::quiet();
    case FaultProfile::kGiven:
      return chaos.givenStorage;
    case FaultProfile::kChaotic:
      return StorageOptions::chaotic(config);
    case FaultProfile::kSwarm:
      return StorageOptions::chaotic(config).swarm(config);
  }
  internal::checkFailed("known FaultProfile", "storage", std::source_location::current());
}

std::optional<AttritionOptions> deriveAttrition(const ChaosOptions& chaos, RandomStream& config) {
  if (chaos.attrition == Attrition::kOff) return std::nullopt;
  AttritionOptions options = chaos.attritionOptions;
  if (chaos.attrition == Attrition::kSwarm) {
    // Four draws, always all of them, so later draws do not depend on earlier outcomes.
    const bool noReboots = config.below(2) == 0;
    const bool noGraceful = config.below(2) == 0;
    const bool noCrash = config.below(2) == 0;
    const bool noWipe = config.below(2) == 0;
    if (noReboots) options.deadMax = 0;
    if (noGraceful) options.weightGraceful = 0;
    if (noCrash) options.weightCrash = 0;
    if (noWipe) options.weightWipe = 0;
  }
  return options;
}

bool hasEpisodes(const NetworkOptions& options) {
  const NetworkOptions::Faults& f = options.faults;
  return f.partitionWeight + f.interfaceClogWeight + f.swizzleWeight > 0;
}

std::string attritionText(const std::optional<AttritionOptions>& a) {
  if (!a) return "attrition: off";
  return "attrition: dead max " + std::to_string(a->deadMax) + ", weights graceful/crash/wipe " +
         std::to_string(a->weightGraceful) + "/" + std::to_string(a->weightCrash) + "/" +
         std::to_string(a->weightWipe) + ", every [" + formatDuration(a->interval.min) + ", " +
         formatDuration(a->interval.max) + "), recovery [" + formatDuration(a->recovery.min) +
         ", " + formatDuration(a->recovery.max) + "), pause p=" +
         std::to_string(a->pauseProbability.value());
}

}  // namespace

SeedConfig deriveSeedConfig(const ChaosOptions& chaos, RandomStream& config) {
  SeedConfig out;
  // Fixed order of derivation: network, storage, attrition (each consumes `config`).
  out.world.network = deriveNetwork(chaos, config);
  out.world.storage = deriveStorage(chaos, config);
  out.world.clock = chaos.clock;
  out.world.graceful = chaos.graceful;
  out.world.buggify = chaos.buggify;
  out.attrition = deriveAttrition(chaos, config);
  out.episodes = hasEpisodes(out.world.network) ? NetworkEpisodes::kOn : NetworkEpisodes::kOff;
  return out;
}

StorageOptions withoutStorageFaults(StorageOptions options) {
  // crashTear is a property of crashes, not a fault rate.
  const Probability crashTear = options.faults.crashTear;
  options.faults = StorageOptions::Faults{};
  options.faults.crashTear = crashTear;
  return options;
}

std::string SeedConfig::toString() const {
  const BuggifyOptions& b = world.buggify;
  std::string out = world.network.toString() + "\n" + world.storage.toString() + "\n" +
                    attritionText(attrition) + "\n";
  out += "network episodes: " + std::string(episodes == NetworkEpisodes::kOn ? "on" : "off") + "\n";
  out += "buggify: " + std::string(b.mode == BuggifyOptions::Mode::kOn ? "on" : "off") +
         " (activation p=" + std::to_string(b.activation.value()) + ")\n";
  out += "clock: offset max " + formatDuration(world.clock.offsetMax) + ", drift max " +
         std::to_string(world.clock.ppmMax) + " ppm\n";
  return out;
}

}  // namespace internal
}  // namespace moonpool
