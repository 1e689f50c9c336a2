// Simulated network faults: partitions, clogs, chaos episodes and the option presets
// (see sim_network.h).
#include <algorithm>

#include "moonpool/sim/sim_network.h"
#include "sim_network_state.h"

namespace moonpool {

using internal::Path;

namespace {

constexpr TimePoint kForever = TimePoint::max();

std::string ipList(const std::vector<IpAddress>& ips) {
  std::string out;
  for (IpAddress ip : ips) {
    if (!out.empty()) out += ",";
    out += ip.toString();
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Clogs.

TimePoint SimNetwork::State::clogEnd(IpAddress from, IpAddress to) const {
  TimePoint end = kTimeZero;
  if (!pathClogs.empty()) {
    if (auto it = pathClogs.find({from, to}); it != pathClogs.end()) end = it->second;
  }
  if (!interfaceClogs.empty()) {
    for (IpAddress ip : {from, to}) {
      if (auto it = interfaceClogs.find(ip); it != interfaceClogs.end()) {
        end = std::max(end, it->second);
      }
    }
  }
  return end;
}

void SimNetwork::State::clogPath(IpAddress from, IpAddress to, Duration duration) {
  const TimePoint until = executor.now() + duration;
  TimePoint& slot = pathClogs[{from, to}];
  slot = std::max(slot, until);
  timeline.fault("net.clog", pathName({from, to}), "for " + formatDuration(duration));
}

void SimNetwork::State::clogInterfaceFor(IpAddress ip, Duration duration) {
  const TimePoint until = duration == Duration::max() ? kForever : executor.now() + duration;
  TimePoint& slot = interfaceClogs[ip];
  slot = std::max(slot, until);
  timeline.fault("net.clog_interface", ip.toString(),
                 until == kForever ? "until unclogged" : "for " + formatDuration(duration));
}

void SimNetwork::State::unclogInterface(IpAddress ip) {
  if (interfaceClogs.erase(ip) == 0) return;
  timeline.trace("net.unclog_interface", ip.toString());
  wakeAll();
}

void SimNetwork::clog(IpAddress from, IpAddress to, Duration duration) {
  MOONPOOL_CHECK_GT(duration, Duration(0));
  state_->clogPath(from, to, duration);
}

void SimNetwork::clogInterface(IpAddress ip, Duration duration) {
  MOONPOOL_CHECK_GT(duration, Duration(0));
  state_->clogInterfaceFor(ip, duration);
}

void SimNetwork::State::checkFaults(const NetworkOptions::Faults& faults) {
  MOONPOOL_CHECK(faults.clog.valid() && faults.chaosInterval.valid() && faults.episode.valid(),
                 "network fault ranges need 0 <= min <= max");
}

void SimNetwork::setFaults(NetworkOptions::Faults faults) {
  State::checkFaults(faults);
  state_->options.faults = std::move(faults);
  state_->timeline.trace("net.faults", "*", "fault rates replaced");
}

const NetworkOptions::Faults& SimNetwork::faults() const { return options().faults; }

// ---------------------------------------------------------------------------------------
// Partitions.

void SimNetwork::State::onPartition(const Path& path) {
  for (auto& link : liveLinks()) {
    if (link->reset) continue;
    const bool crosses =
        (link->address[0].ip == path.first && link->address[1].ip == path.second) ||
        (link->address[1].ip == path.first && link->address[0].ip == path.second);
    if (!crosses || !roll(options.faults.partitionResetProbability)) continue;
    timeline.fault("net.partition_reset", link->address[0].toString() + "<->" +
                                              link->address[1].toString());
    resetLink(*link, "connection reset: no route to the peer (partition)");
  }
}

void SimNetwork::partition(IpAddress from, IpAddress to) {
  MOONPOOL_CHECK(from != to, "a process cannot be partitioned from itself");
  if (!state_->partitions.insert({from, to}).second) return;
  state_->timeline.fault("net.partition", state_->pathName({from, to}));
  state_->onPartition({from, to});
}

void SimNetwork::partitionBoth(IpAddress a, IpAddress b) {
  partition(a, b);
  partition(b, a);
}

void SimNetwork::heal(IpAddress from, IpAddress to) {
  if (state_->partitions.erase({from, to}) == 0) return;
  state_->timeline.fault("net.heal", state_->pathName({from, to}));
  state_->wakeAll();
}

void SimNetwork::healAll() {
  const bool any = !state_->partitions.empty() || !state_->pathClogs.empty() ||
                   !state_->interfaceClogs.empty();
  state_->partitions.clear();
  state_->pathClogs.clear();
  state_->interfaceClogs.clear();
  if (!any) return;
  state_->timeline.fault("net.heal_all", "*");
  state_->wakeAll();
}

bool SimNetwork::partitioned(IpAddress from, IpAddress to) const {
  return state_->partitioned(from, to);
}

// ---------------------------------------------------------------------------------------
// Chaos episodes.

Task<void> SimNetwork::chaos(std::vector<IpAddress> ips, TimePoint until) {
  State& net = *state_;
  const auto& f = net.options.faults;
  const double weights = f.partitionWeight + f.interfaceClogWeight + f.swizzleWeight;
  std::sort(ips.begin(), ips.end());
  while (net.executor.now() < until) {
    const Duration gap = net.random.durationIn(f.chaosInterval);
    co_await net.executor.sleepUntil(std::min(until, net.executor.now() + gap));
    if (net.executor.now() >= until || weights <= 0 || ips.size() < 2) continue;
    const Duration length = net.random.durationIn(f.episode);
    const TimePoint episodeEnd = std::min(until, net.executor.now() + length);
    double pick = net.random.unit() * weights;
    if ((pick -= f.partitionWeight) < 0) {
      // A random proper subset on one side; both ways, or one way either direction.
      std::vector<IpAddress> side, rest;
      for (IpAddress ip : ips) (net.random.below(2) == 0 ? side : rest).push_back(ip);
      if (side.empty() || rest.empty()) {
        side.assign(1, ips[net.random.index(ips.size())]);
        rest.clear();
        for (IpAddress ip : ips) if (ip != side[0]) rest.push_back(ip);
      }
      const auto direction = net.random.below(4);  // 0,1: both ways; 2: side->rest; 3: rest->side
      const char* how = direction < 2 ? "both ways" : direction == 2 ? "one way ->" : "one way <-";
      net.timeline.fault("net.partition_episode", ipList(side) + " | " + ipList(rest),
                         std::string(how) + " for " +
                             formatDuration(episodeEnd - net.executor.now()));
      for (IpAddress a : side) {
        for (IpAddress b : rest) {
          if (direction != 3) partition(a, b);
          if (direction != 2) partition(b, a);
        }
      }
      co_await net.executor.sleepUntil(episodeEnd);
      for (IpAddress a : side) {
        for (IpAddress b : rest) {
          heal(a, b);
          heal(b, a);
        }
      }
    } else if ((pick -= f.interfaceClogWeight) < 0) {
      const IpAddress ip = ips[net.random.index(ips.size())];
      net.clogInterfaceFor(ip, episodeEnd - net.executor.now());
      co_await net.executor.sleepUntil(episodeEnd);
      net.wakeAll();
    } else {
      // Swizzle: clog a random subset one by one, then unclog them in another order.
      std::vector<IpAddress> victims = ips;
      net.random.shuffle(std::span(victims));
      victims.resize(1 + net.random.index(victims.size()));
      net.timeline.fault("net.swizzle", ipList(victims));
      const Duration step =
          std::max(Duration(1), (episodeEnd - net.executor.now()) /
                                    static_cast<Duration::rep>(2 * victims.size()));
      for (IpAddress ip : victims) {
        net.clogInterfaceFor(ip, Duration::max());
        co_await net.executor.sleep(step);
      }
      net.random.shuffle(std::span(victims));
      for (IpAddress ip : victims) {
        co_await net.executor.sleep(step);
        net.unclogInterface(ip);
      }
    }
  }
  healAll();
}

// ---------------------------------------------------------------------------------------
// Option presets.

NetworkOptions NetworkOptions::quiet() {
  NetworkOptions o;
  o.connectLatency = LatencyModel::fixed(std::chrono::microseconds(10));
  o.latency = LatencyModel::fixed(std::chrono::microseconds(1));
  o.faults = Faults{};
  return o;
}

NetworkOptions NetworkOptions::chaotic(RandomStream& config) {
  using std::chrono::milliseconds;
  NetworkOptions o;
  o.connectLatency = o.connectLatency.randomVariant(config);
  o.latency = o.latency.randomVariant(config);
  o.pairLatencyMax = milliseconds(config.below(50));
  auto rate = [&](double max) { return Probability(config.unit() * max); };
  Faults& f = o.faults;
  f.clogProbability = rate(0.01);
  f.clog.min = milliseconds(10 + config.below(90));
  f.clog.max = f.clog.min + milliseconds(50 + config.below(500));
  f.randomCloseProbability = rate(0.0005);
  f.resetShare = Probability(0.2 + config.unit() * 0.6);
  f.connectRefuseProbability = rate(0.05);
  f.connectHangProbability = rate(0.02);
  f.partialIoProbability = rate(0.2);
  f.bitFlipProbability = rate(0.0002);
  f.partitionResetProbability = rate(1.0);
  f.partitionWeight = 1;
  f.interfaceClogWeight = 1;
  f.swizzleWeight = 0.5;
  return o;
}

NetworkOptions NetworkOptions::swarm(RandomStream& config) const {
  NetworkOptions o = *this;
  Faults& f = o.faults;
  auto off = [&]() { return config.below(2) == 0; };
  const Probability never{};
  if (off()) f.clogProbability = never;
  if (off()) f.randomCloseProbability = never;
  if (off()) f.connectRefuseProbability = f.connectHangProbability = never;
  if (off()) f.partialIoProbability = never;
  if (off()) f.bitFlipProbability = never;
  if (off()) f.partitionWeight = 0;
  if (off()) f.interfaceClogWeight = f.swizzleWeight = 0;
  if (off()) o.pairLatencyMax = Duration(0);
  return o;
}

std::string NetworkOptions::toString() const {
  const Faults& f = faults;
  auto p = [](double v) { return std::to_string(v); };
  auto pr = [](Probability v) { return std::to_string(v.value()); };
  return "network: connect " + connectLatency.toString() + ", latency " + latency.toString() +
         ", pair latency max " + formatDuration(pairLatencyMax) + ", send buffer " +
         std::to_string(sendBufferBytes) + "B, connect timeout " + formatDuration(connectTimeout) +
         "\n  faults: clog p=" + pr(f.clogProbability) + " [" + formatDuration(f.clog.min) +
         "," + formatDuration(f.clog.max) + "), random close p=" + pr(f.randomCloseProbability) +
         " (reset share " + pr(f.resetShare) +
         "), connect refuse p=" + pr(f.connectRefuseProbability) +
         " hang p=" + pr(f.connectHangProbability) + ", partial io p=" +
         pr(f.partialIoProbability) + ", bit flip p=" + pr(f.bitFlipProbability) + " (max " +
         std::to_string(f.bitFlipsMax) + "), partition reset p=" +
         pr(f.partitionResetProbability) + ", episodes partition/clog/swizzle " +
         p(f.partitionWeight) + "/" + p(f.interfaceClogWeight) + "/" + p(f.swizzleWeight);
}

}  // namespace moonpool
