// kv_client: drives and checks a running KV cluster (examples/kv).
//
//   kv_client --primary=127.0.0.1:7401 --client_id=1 --ops=200 [--ledger_out=FILE]
//   kv_client --primary=127.0.0.1:7401 --verify_ledger=FILE
//
// The first form runs the client workload of client.h (PUT/GET through Cap'n Proto RPC with
// retries, every read checked), then reads every key back (verifyLedger) and, with
// --ledger_out, saves what was acknowledged and read. The second form only reads back the keys
// of a saved ledger — run it after killing, restarting or wiping servers to check that no
// acknowledged write was lost.
// Under mutual TLS (a cluster whose kv_node runs with --tls_cert/--tls_key/--tls_ca) give
// the client its own certificate from the same CA, and the CA:
//   kv_client --primary=... --tls_cert=client.pem --tls_key=client.key --tls_ca=ca.pem
// Without them the client speaks plain TCP, which such a cluster refuses.
// Exit status: 0 when every check passed (and, when running the workload, at least one
// PUT was acknowledged), 1 when a check failed, 2 for bad flags or an unreadable ledger.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client.h"
#include "moonpool/assertions/table.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/rpc/tls.h"

ABSL_FLAG(std::string, primary, "", "the primary's address, ip:port");
ABSL_FLAG(int32_t, client_id, 1, "client id (its keys are c<id>/k<i>)");
ABSL_FLAG(int64_t, ops, 200, "operations to run");
ABSL_FLAG(int32_t, keys, 4, "keys of this client, 1..64");
ABSL_FLAG(int32_t, timeout_ms, 1000, "per-request timeout");
ABSL_FLAG(int32_t, run_seconds, 60, "stop issuing requests after this long");
ABSL_FLAG(int32_t, verify_seconds, 30, "how long the final read-back may take");
ABSL_FLAG(std::string, ledger_out, "", "write the acknowledged versions to this file");
ABSL_FLAG(std::string, verify_ledger, "", "only check the keys of this saved ledger");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate of this client (enables mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA that signs the servers' certificates");
ABSL_FLAG(std::string, tls_server_name, "kv-cluster",
          "the name the server certificates carry (subjectAltName DNS)");

namespace {

using moonpool::kv::ClientLedger;

int usageError(const std::string& message) {
  std::fprintf(stderr, "kv_client: %s\n", message.c_str());
  return 2;
}

// One line per key: "<key> <acked> <sent> <read>"; the first line is "client <id>".
bool saveLedger(const ClientLedger& ledger, const std::string& path) {
  std::ofstream out(path);
  out << "client " << ledger.clientId << "\n";
  for (const auto& [key, known] : ledger.keys) {
    out << key << " " << known.acked << " " << known.sent << " " << known.read << "\n";
  }
  return static_cast<bool>(out);
}

bool loadLedger(const std::string& path, ClientLedger& ledger) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word >> ledger.clientId) || word != "client") return false;
  std::string key;
  moonpool::kv::KeyLedger known;
  while (in >> key >> known.acked >> known.sent >> known.read) ledger.keys[key] = known;
  return in.eof() && !ledger.keys.empty();
}

// Loads the TLS flags into `tls` (left null without them); an error names the flag or file.
std::string applyTlsFlags(std::shared_ptr<moonpool::rpc::Tls>& tls) {
  const moonpool::rpc::TlsFiles files{.certificate = absl::GetFlag(FLAGS_tls_cert),
                                      .key = absl::GetFlag(FLAGS_tls_key),
                                      .ca = absl::GetFlag(FLAGS_tls_ca)};
  if (files.certificate.empty() && files.key.empty() && files.ca.empty()) return {};
  if (files.certificate.empty() || files.key.empty() || files.ca.empty()) {
    return "TLS needs all of --tls_cert, --tls_key and --tls_ca";
  }
  auto loaded = moonpool::rpc::Tls::fromFiles(files, absl::GetFlag(FLAGS_tls_server_name));
  if (!loaded.ok()) return loaded.error().toString();
  tls = std::move(loaded).value();
  return {};
}

struct Job {
  moonpool::kv::ClientConfig config;
  moonpool::kv::KvCounters counters;
  ClientLedger ledger;
  enum class Mode : std::uint8_t { kWorkload, kVerifyOnly } mode = Mode::kWorkload;
  moonpool::Duration verifyFor = std::chrono::seconds(30);
  std::vector<std::string> violations;
};

moonpool::Task<void> runJob(moonpool::Providers providers, Job* job) {
  if (job->mode == Job::Mode::kWorkload) {
    co_await moonpool::kv::runClient(providers, job->config, &job->ledger);
  }
  job->violations = co_await moonpool::kv::verifyLedger(
      providers, job->config.primary, &job->ledger, job->verifyFor,
      job->config.requestTimeout, job->config.tls);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("kv_client: drive and check a moonpool KV cluster");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return usageError(std::string("unexpected argument '") + rest[1] + "'");
  moonpool::IoResult<moonpool::NetAddress> primary =
      moonpool::NetAddress::parse(absl::GetFlag(FLAGS_primary));
  if (!primary.ok()) return usageError("--primary: " + primary.error().toString());
  const int keys = absl::GetFlag(FLAGS_keys);
  if (keys < 1 || keys > static_cast<int>(moonpool::kv::kKeysPerClientMax)) {
    return usageError("--keys must be in [1, 64], got " + std::to_string(keys));
  }
  const std::int64_t ops = absl::GetFlag(FLAGS_ops);
  if (ops < 1) return usageError("--ops must be at least 1");

  Job job;
  job.config.counters = &job.counters;
  job.config.clientId = static_cast<std::uint32_t>(absl::GetFlag(FLAGS_client_id));
  job.config.primary = *primary;
  job.config.keys = static_cast<std::size_t>(keys);
  job.config.opsMax = static_cast<std::uint64_t>(ops);
  job.config.think = {std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  job.config.requestTimeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  job.config.runFor = std::chrono::seconds(absl::GetFlag(FLAGS_run_seconds));
  const int verifySeconds = absl::GetFlag(FLAGS_verify_seconds);
  if (verifySeconds < 1) return usageError("--verify_seconds must be at least 1");
  job.verifyFor = std::chrono::seconds(verifySeconds);
  if (std::string error = applyTlsFlags(job.config.tls); !error.empty()) return usageError(error);
  const std::string verifyPath = absl::GetFlag(FLAGS_verify_ledger);
  if (!verifyPath.empty()) {
    job.mode = Job::Mode::kVerifyOnly;
    if (!loadLedger(verifyPath, job.ledger)) return usageError("cannot read ledger " + verifyPath);
  }

  moonpool::RealRuntime runtime(moonpool::RealRuntimeOptions{.storageRoot = "."});
  moonpool::RunOutcome outcome = runtime.run(runJob(runtime.providers(), &job));
  if (!outcome.ok()) {
    std::fprintf(stderr, "kv_client: the run failed: %s\n", outcome.message.c_str());
    return 1;
  }
  const std::string ledgerOut = absl::GetFlag(FLAGS_ledger_out);
  if (!ledgerOut.empty() && !saveLedger(job.ledger, ledgerOut)) {
    return usageError("cannot write ledger " + ledgerOut);
  }
  std::uint64_t acked = 0;
  for (const auto& [key, known] : job.ledger.keys) acked += known.acked;
  std::printf("client %u: %llu puts acknowledged, %llu gets checked, %llu abandoned, %zu keys "
              "read back, %zu violation(s)\n",
              job.ledger.clientId, static_cast<unsigned long long>(job.ledger.putsAcked),
              static_cast<unsigned long long>(job.ledger.getsChecked),
              static_cast<unsigned long long>(job.ledger.abandoned), job.ledger.keys.size(),
              job.violations.size());
  const moonpool::kv::KvCounters& c = job.counters;
  std::printf("  rpc: %llu reconnects, %llu resends, %llu requests timed out, %llu failed fast, "
              "%llu maybe delivered\n",
              static_cast<unsigned long long>(c.reconnects),
              static_cast<unsigned long long>(c.resends),
              static_cast<unsigned long long>(c.requestTimeouts),
              static_cast<unsigned long long>(c.failFast),
              static_cast<unsigned long long>(c.maybeDelivered));
  for (const std::string& v : job.violations) std::printf("  VIOLATION %s\n", v.c_str());
  const bool idle = job.mode == Job::Mode::kWorkload && job.ledger.putsAcked == 0;
  if (idle) std::printf("  no PUT was acknowledged\n");
  return job.violations.empty() && !idle && moonpool::runViolationCount() == 0 && acked > 0 ? 0 : 1;
}
