// kv_node: one server of the replicated KV store as a real process (examples/kv).
//
//   kv_node --id=1 --port=7401 --peers=127.0.0.1:7402,127.0.0.1:7403 --data_dir=/tmp/kv1
//
// The very code the simulation tests (server.h), on real providers: Cap'n Proto RPC over TCP on
// 127.0.0.1 (the services of kv_service.h, which any Cap'n Proto client can call through the host's
// hub, hub.capnp) and files under --data_dir, through RealRuntime. Server 1 is the primary. --peers
// lists the two other servers in id order. The node runs until it is killed; notable events
// (recovery, truncated log tails, corrupt frames, restarts, and why connections were
// dropped, at most 5 a second) go to stderr, one line each.
// Production: --tls_cert/--tls_key/--tls_ca turn on mutual TLS for every connection (a
// plaintext peer or one without a certificate from the CA is refused, with the reason
// logged); only the members (--tls_members, default kv-1..3) may call the replica service.
// The limit flags (--connections_max, byte caps, deadlines) tune the defaults of server.h's
// ServerRpcLimits, which already protect a node.
// Exit status: 2 for bad flags or unreadable TLS files; otherwise the process only ends by
// a signal.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "moonpool/real/real_executor.h"
#include "server.h"

ABSL_FLAG(int32_t, id, 1, "server id, 1..3 (1 is the primary)");
ABSL_FLAG(int32_t, port, 0, "TCP port to listen on (127.0.0.1)");
ABSL_FLAG(std::string, peers, "",
          "the two other servers as ip:port,ip:port, in id order");
ABSL_FLAG(std::string, data_dir, "", "directory for this server's log and promise files");
// Limits against hostile or broken peers (server.h ServerRpcLimits; 0 keeps the default).
ABSL_FLAG(int64_t, connections_max, 0, "connections served at once (default 64)");
ABSL_FLAG(int64_t, incoming_bytes_max, 0,
          "bytes of a partially received message per connection (default 1 MiB)");
ABSL_FLAG(int64_t, budget_bytes_max, 0,
          "bytes of partial messages (and of queued answers) over all connections (default "
          "32 MiB)");
ABSL_FLAG(int64_t, first_message_timeout_ms, 0,
          "a connection's first whole message must arrive within this (default 5000)");
ABSL_FLAG(int64_t, idle_timeout_ms, 0,
          "a connection silent this long is closed (default 30000)");
// Mutual TLS (all three files, or none): every connection, to servers and clients alike.
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate of this server (enables mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA that signs every server's and client's certificate");
ABSL_FLAG(std::string, tls_server_name, "kv-cluster",
          "the name every server certificate carries (subjectAltName DNS)");
ABSL_FLAG(std::string, tls_members, "",
          "certificate common names of the cluster members, comma separated (default "
          "kv-1,kv-2,kv-3): only they may call the replica service");

namespace {

using moonpool::NetAddress;

class StderrSink final : public moonpool::kv::EventSink {
 public:
  // implements EventSink
  void note(std::string_view who, std::string_view kind, const std::string& detail) override {
    std::fprintf(stderr, "[%.*s] %.*s: %s\n", static_cast<int>(who.size()), who.data(),
                 static_cast<int>(kind.size()), kind.data(), detail.c_str());
  }
};

int fail(const std::string& message) {
  std::fprintf(stderr, "kv_node: %s\n", message.c_str());
  return 2;
}

// Applies the limit flags to `limits`; an error names the flag.
std::string applyLimitFlags(moonpool::kv::ServerRpcLimits& limits) {
  constexpr std::int64_t kCountMax = 1'000'000;
  constexpr std::int64_t kBytesMax = std::int64_t{1} << 40;
  constexpr std::int64_t kMillisMax = std::int64_t{365} * 24 * 3600 * 1000;
  struct Flag {
    const char* name;
    std::int64_t value;
    std::int64_t max;
  };
  const Flag flags[] = {
      {"connections_max", absl::GetFlag(FLAGS_connections_max), kCountMax},
      {"incoming_bytes_max", absl::GetFlag(FLAGS_incoming_bytes_max), kBytesMax},
      {"budget_bytes_max", absl::GetFlag(FLAGS_budget_bytes_max), kBytesMax},
      {"first_message_timeout_ms", absl::GetFlag(FLAGS_first_message_timeout_ms), kMillisMax},
      {"idle_timeout_ms", absl::GetFlag(FLAGS_idle_timeout_ms), kMillisMax}};
  for (const Flag& flag : flags) {
    if (flag.value < 0 || flag.value > flag.max) {
      return "--" + std::string(flag.name) + " must be in [0, " + std::to_string(flag.max) +
             "], got " + std::to_string(flag.value);
    }
  }
  if (flags[0].value > 0) limits.connectionsMax = static_cast<std::uint32_t>(flags[0].value);
  if (flags[1].value > 0) limits.incomingBytesMax = static_cast<std::size_t>(flags[1].value);
  if (flags[2].value > 0) limits.budgetBytesMax = static_cast<std::size_t>(flags[2].value);
  if (flags[3].value > 0) limits.firstMessageTimeout = std::chrono::milliseconds(flags[3].value);
  if (flags[4].value > 0) limits.idleTimeout = std::chrono::milliseconds(flags[4].value);
  return {};
}

// Loads the TLS flags into `security`; an error names the flag or file.
std::string applyTlsFlags(moonpool::kv::ServerSecurity& security) {
  const moonpool::rpc::TlsFiles files{.certificate = absl::GetFlag(FLAGS_tls_cert),
                                      .key = absl::GetFlag(FLAGS_tls_key),
                                      .ca = absl::GetFlag(FLAGS_tls_ca)};
  const std::string members = absl::GetFlag(FLAGS_tls_members);
  if (files.certificate.empty() && files.key.empty() && files.ca.empty()) {
    if (!members.empty()) return "--tls_members needs TLS (--tls_cert, --tls_key, --tls_ca)";
    return {};
  }
  if (files.certificate.empty() || files.key.empty() || files.ca.empty()) {
    return "TLS needs all of --tls_cert, --tls_key and --tls_ca";
  }
  auto tls = moonpool::rpc::Tls::fromFiles(files, absl::GetFlag(FLAGS_tls_server_name));
  if (!tls.ok()) return tls.error().toString();
  security.tls = std::move(tls).value();
  if (!members.empty()) {
    for (const std::string& name : std::vector<std::string>(absl::StrSplit(members, ','))) {
      if (name.empty()) return "--tls_members has an empty name";
      security.memberNames.emplace_back(name);
    }
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("kv_node: one server of the moonpool replicated KV store");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return fail(std::string("unexpected argument '") + rest[1] + "'");
  const int id = absl::GetFlag(FLAGS_id);
  const int port = absl::GetFlag(FLAGS_port);
  if (id < 1 || id > static_cast<int>(moonpool::kv::kServers)) {
    return fail("--id must be in [1, 3], got " + std::to_string(id));
  }
  if (port < 1 || port > 65535) {
    return fail("--port must be in [1, 65535], got " + std::to_string(port));
  }
  const std::string dataDir = absl::GetFlag(FLAGS_data_dir);
  if (dataDir.empty()) return fail("--data_dir is required");

  moonpool::kv::ServerConfig config;
  config.id = static_cast<std::uint32_t>(id);
  config.servers[config.id - 1] =
      NetAddress{moonpool::kLoopbackIp, static_cast<std::uint16_t>(port)};
  std::vector<std::string> peers = absl::StrSplit(absl::GetFlag(FLAGS_peers), ',');
  if (peers.size() != moonpool::kv::kServers - 1) {
    return fail("--peers needs the two other servers as ip:port,ip:port");
  }
  std::size_t next = 0;
  for (std::size_t slot = 0; slot < moonpool::kv::kServers; ++slot) {
    if (slot == config.id - 1) continue;
    moonpool::IoResult<NetAddress> parsed = NetAddress::parse(peers[next++]);
    if (!parsed.ok()) return fail("--peers: " + parsed.error().toString());
    config.servers[slot] = *parsed;
  }
  if (std::string bad = applyLimitFlags(config.limits); !bad.empty()) return fail(bad);
  if (std::string bad = applyTlsFlags(config.security); !bad.empty()) return fail(bad);
  StderrSink sink;
  config.events = &sink;
  const std::string problem = moonpool::kv::validateServerConfig(config);
  if (!problem.empty()) return fail(problem);

  moonpool::RealRuntime runtime(moonpool::RealRuntimeOptions{.storageRoot = dataDir});
  std::fprintf(stderr, "[%s] starting on %s, data in %s, %s\n",
               moonpool::kv::serverName(config.id).c_str(),
               config.servers[config.id - 1].toString().c_str(), dataDir.c_str(),
               config.security.tls ? "mutual TLS" : "plain TCP");
  moonpool::RunOutcome outcome = runtime.run(moonpool::kv::runServer(runtime.providers(), config));
  std::fprintf(stderr, "kv_node: the server stopped: %s\n", outcome.message.c_str());
  return 1;
}
