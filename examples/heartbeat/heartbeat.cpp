// The heartbeat cluster (see heartbeat.h for the protocol and the properties).
#include "heartbeat.h"

#include <map>
#include <memory>
#include <optional>

#include "moonpool/assertions.h"
#include "moonpool/channel.h"
#include "moonpool/event.h"

namespace moonpool::examples {
namespace {

enum class Kind : unsigned char { kHeartbeat, kPing, kPong };

struct Message {
  Kind kind;
  int from;
  int to;
  TimePoint sentAt;
};

struct Pause {
  int node;
  TimePoint start;
  TimePoint end;
};

struct Suspicion {
  int observer;
  int suspect;
  TimePoint at;
};

class Cluster;

class Node {
 public:
  Node(Cluster& cluster, int id, Executor& executor);
  void start();
  Channel<Message>& inbox() { return inbox_; }
  void pause() { running_.reset(); }
  void resume() { running_.set(); }
  bool paused() const { return !running_.isSet(); }
  bool suspects(int peer) const { return suspected_.at(static_cast<std::size_t>(peer)); }

 private:
  Task<void> sendLoop();
  Task<void> receiveLoop();
  Task<void> detectLoop();
  void handle(const Message& message);

  Cluster& cluster_;
  const int id_;
  Channel<Message> inbox_{HeartbeatOptions::kInboxMax};
  Event running_{true};
  std::vector<TimePoint> lastHeard_;
  std::vector<bool> suspected_;
  // Last member: destroyed first, so no task outlives the state above.
  TaskGroup tasks_;
};

class Cluster {
 public:
  Cluster(Providers providers, HeartbeatOptions options)
      : providers_(providers), options_(options) {
    Executor& executor = providers.tasks().group().executor();
    for (int i = 0; i < options.nodes; ++i) {
      nodes_.push_back(std::make_unique<Node>(*this, i, executor));
    }
    deliveries_ = std::make_unique<TaskGroup>(executor, "links");
  }
  ~Cluster() {
    deliveries_.reset();  // in-flight messages first: they reference node inboxes
  }

  const HeartbeatOptions& options() const { return options_; }
  Providers providers() const { return providers_; }
  int size() const { return options_.nodes; }

  void start() {
    for (auto& node : nodes_) node->start();
  }
  void send(Message message);
  Task<void> injectPauses();
  void noteSuspicion(int observer, int suspect);
  SeedStats finish();

  SeedStats stats;

 private:
  static Task<void> deliver(Cluster* cluster, Message message, Duration latency);
  bool pausedRecently(int node, TimePoint at, Duration window) const;

  Providers providers_;
  HeartbeatOptions options_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<TaskGroup> deliveries_;
  std::vector<Pause> pauses_;
  std::vector<Suspicion> suspicions_;
};

Node::Node(Cluster& cluster, int id, Executor& executor)
    : cluster_(cluster),
      id_(id),
      lastHeard_(static_cast<std::size_t>(cluster.size()), kTimeZero),
      suspected_(static_cast<std::size_t>(cluster.size()), false),
      tasks_(executor, "node-" + std::to_string(id)) {}

void Node::start() {
  tasks_.spawn("send-" + std::to_string(id_), sendLoop()).detach();
  tasks_.spawn("receive-" + std::to_string(id_), receiveLoop()).detach();
  tasks_.spawn("detect-" + std::to_string(id_), detectLoop()).detach();
}

Task<void> Node::sendLoop() {
  TimeProvider& time = cluster_.providers().time();
  RandomProvider& random = cluster_.providers().random();
  const Duration interval = cluster_.options().interval;
  for (;;) {
    co_await running_.wait();
    for (int peer = 0; peer < cluster_.size(); ++peer) {
      if (peer != id_) cluster_.send(Message{Kind::kHeartbeat, id_, peer, time.now()});
    }
    auto target = static_cast<int>(random.below(static_cast<std::uint64_t>(cluster_.size() - 1)));
    if (target >= id_) ++target;
    cluster_.send(Message{Kind::kPing, id_, target, time.now()});
    // +-10% jitter keeps nodes from beating in lockstep.
    co_await time.sleep(random.durationBetween(interval * 9 / 10, interval * 11 / 10));
  }
}

Task<void> Node::receiveLoop() {
  for (;;) {
    std::optional<Message> message = co_await inbox_.receive();
    if (!message) co_return;
    co_await running_.wait();  // a paused node processes its backlog after resuming
    handle(*message);
  }
}

void Node::handle(const Message& message) {
  MOONPOOL_ALWAYS(!paused(), "a paused node handles no message");
  TimeProvider& time = cluster_.providers().time();
  const auto from = static_cast<std::size_t>(message.from);
  lastHeard_[from] = time.now();
  suspected_[from] = false;
  if (message.kind == Kind::kPing) {
    cluster_.send(Message{Kind::kPong, id_, message.from, message.sentAt});
  } else if (message.kind == Kind::kPong) {
    const Duration rtt = time.now() - message.sentAt;
    MOONPOOL_SOMETIMES_GT(std::chrono::duration_cast<std::chrono::milliseconds>(rtt).count(),
                          1000, "a ping round trip takes over a second (a paused peer)");
    ++cluster_.stats.rttSamples;
    cluster_.stats.rttSum += rtt;
    cluster_.stats.rttMax = std::max(cluster_.stats.rttMax, rtt);
  }
}

Task<void> Node::detectLoop() {
  TimeProvider& time = cluster_.providers().time();
  for (;;) {
    co_await time.sleep(cluster_.options().checkEvery);
    co_await running_.wait();
    for (int peer = 0; peer < cluster_.size(); ++peer) {
      const auto p = static_cast<std::size_t>(peer);
      if (peer == id_ || suspected_[p]) continue;
      if (time.now() - lastHeard_[p] > cluster_.options().suspectAfter) {
        suspected_[p] = true;
        cluster_.noteSuspicion(id_, peer);
      }
    }
  }
}

void Cluster::send(Message message) {
  RandomProvider& random = providers_.random();
  ++stats.messagesSent;
  if (random.chance(options_.lossProbability)) {
    ++stats.messagesDropped;
    return;
  }
  Duration latency = random.durationBetween(options_.latency.min, options_.latency.max + 1ns);
  if (random.chance(options_.slowProbability)) {
    latency += random.durationBetween(0ns, options_.slowMax);
  }
  deliveries_->spawn("deliver", deliver(this, message, latency)).detach();
}

Task<void> Cluster::deliver(Cluster* cluster, Message message, Duration latency) {
  co_await cluster->providers_.time().sleep(latency);
  Node& to = *cluster->nodes_[static_cast<std::size_t>(message.to)];
  if (to.inbox().trySend(message)) {
    ++cluster->stats.messagesDelivered;
  } else {
    MOONPOOL_UNREACHABLE("an inbox overflows (kInboxMax is too small for the pauses)");
    ++cluster->stats.inboxOverflows;
  }
}

Task<void> Cluster::injectPauses() {
  TimeProvider& time = providers_.time();
  RandomProvider& random = providers_.random();
  for (;;) {
    co_await time.sleep(random.durationIn(options_.pauseGap));
    const int victim = static_cast<int>(random.below(static_cast<std::uint64_t>(size())));
    const Duration length = random.durationIn(options_.pause);
    MOONPOOL_SOMETIMES_EACH("pause length (whole seconds)",
                            std::chrono::duration_cast<std::chrono::seconds>(length).count());
    Node& node = *nodes_[static_cast<std::size_t>(victim)];
    node.pause();
    pauses_.push_back(Pause{victim, time.now(), time.now() + length});
    ++stats.pauses;
    co_await time.sleep(length);
    node.resume();
  }
}

bool Cluster::pausedRecently(int node, TimePoint at, Duration window) const {
  for (const Pause& p : pauses_) {
    if (p.node == node && p.start <= at && at <= p.end + window) return true;
  }
  return false;
}

void Cluster::noteSuspicion(int observer, int suspect) {
  const TimePoint now = providers_.time().now();
  suspicions_.push_back(Suspicion{observer, suspect, now});
  const Duration window = detectionBound(options_);
  // A node that was itself paused wakes up with stale knowledge and may suspect everyone:
  // that is counted apart from false suspicions of a running peer by a running observer.
  MOONPOOL_SOMETIMES(pausedRecently(suspect, now, window), "a paused node is suspected");
  if (pausedRecently(observer, now, window)) {
    ++stats.staleSuspicions;
  } else if (!pausedRecently(suspect, now, window)) {
    ++stats.falseSuspicions;
  }
}

SeedStats Cluster::finish() {
  const TimePoint end = providers_.time().now();
  const Duration bound = detectionBound(options_);
  for (const Pause& pause : pauses_) {
    if (pause.end > end || pause.end - pause.start <= bound) continue;
    ++stats.detectablePauses;
    for (int observer = 0; observer < size(); ++observer) {
      if (observer == pause.node) continue;
      std::optional<Duration> latency;
      for (const Suspicion& s : suspicions_) {
        if (s.observer == observer && s.suspect == pause.node && s.at >= pause.start &&
            s.at <= pause.end) {
          latency = s.at - pause.start;
          break;
        }
      }
      MOONPOOL_ALWAYS(latency && *latency <= bound,
                      "every other node detects a detectable pause within the bound");
      if (!latency || *latency > bound) {
        stats.violations.push_back(
            "node " + std::to_string(observer) + " did not suspect node " +
            std::to_string(pause.node) + " within " + formatDuration(bound) +
            " of its pause at " + formatTime(pause.start) + " (paused until " +
            formatTime(pause.end) + ")");
        continue;
      }
      ++stats.detections;
      stats.detectionLatencySum += *latency;
      stats.detectionLatencyMax = std::max(stats.detectionLatencyMax, *latency);
    }
  }
  const Duration settle = detectionBound(options_) + options_.interval * 11 / 10;
  for (int observer = 0; observer < size(); ++observer) {
    for (int peer = 0; peer < size(); ++peer) {
      if (observer == peer || !nodes_[static_cast<std::size_t>(observer)]->suspects(peer)) continue;
      if (nodes_[static_cast<std::size_t>(observer)]->paused()) continue;
      if (pausedRecently(peer, end, settle) || pausedRecently(observer, end, settle)) continue;
      stats.violations.push_back("node " + std::to_string(observer) + " still suspects node " +
                                 std::to_string(peer) + " at " + formatTime(end) +
                                 " although it has been running normally");
    }
  }
  return stats;
}

void checkOptions(const HeartbeatOptions& o) {
  MOONPOOL_CHECK(o.nodes >= 2 && o.nodes <= HeartbeatOptions::kNodesMax, "nodes out of range");
  MOONPOOL_CHECK(o.latency.valid() && o.pause.min < o.pause.max &&
                 o.pauseGap.min < o.pauseGap.max && o.interval > Duration{0} &&
                 o.checkEvery > Duration{0} && o.slowMax > Duration{0});
}

}  // namespace

Task<SeedStats> runHeartbeatCluster(Providers providers, HeartbeatOptions options) {
  checkOptions(options);
  Cluster cluster(providers, options);
  cluster.start();
  auto pauser = providers.tasks().spawn("pauser", cluster.injectPauses());
  co_await providers.time().sleep(options.simulated);
  pauser.cancel();
  co_return cluster.finish();
}

}  // namespace moonpool::examples
