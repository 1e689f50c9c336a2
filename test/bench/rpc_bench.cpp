// Benchmarks of two-party Cap'n Proto RPC: an echo of a 16-byte text over real loopback TCP,
// each path next to the raw-capnp baseline of the same run (scripts/bench_rpc.sh prints the
// ratios):
//   RawCapnp          capnp::TwoPartyServer / TwoPartyClient on kj::setupAsyncIo, a
//                     hand-written Echo::Server answering with kj::READY_NOW; no moonpool.
//   MoonpoolTask      moonpool's RpcServer / RpcClient (two_party.h) on RealRuntime, the
//                     server method a moonpool Task handed to KJ by toPromise, the client a
//                     Task awaiting each call (awaitPromise); plain and checksummed framing.
//   MoonpoolKj        the same transport with the hand-written kj::READY_NOW server, which
//                     separates the transport's cost from the Task bridge's.
//   Generated         a [[moonpool::service]] header (rpc_bench_echo.h) through
//                     moonpool_add_service: the generated EchoServer / EchoClient over
//                     RpcServer / RpcClient, plain framing (only when MOONPOOL_WITH_ANNOTATE).
//   RawCapnpTls       the raw baseline over mutual TLS (kj-tls on both ends).
//   MoonpoolTls       the Task server over RpcServer / RpcClient with RpcOptions::tls.
//                     Certificates come from the openssl command line (tls_certificates.h).
//   SimulatedEcho     the echo between two processes of a SimWorld (quiet network): calls
//                     per wall second of simulation, nothing real underneath.
// Each runs with 1 call in flight and with 32 (workers each keeping one call outstanding).
// items_per_second is calls per wall second (UseRealTime); p50_us and p99_us are per-call
// latencies in wall microseconds, from a WallTimer around each call (a benchmark may read the
// wall clock; simulated code never does).
// Fairness: server and client share one thread and one KJ event loop in every real variant
// (the raw baseline's own loop, or RealRuntime's), so no variant gains a second core and
// every call crosses the kernel's loopback twice.
#include <benchmark/benchmark.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "echo.capnp.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/rpc/two_party.h"
#include "moonpool/combinators.h"
#include "moonpool/real/real_executor.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/rpc/tls.h"
#include "rpc_testing.h"
#include "tls_certificates.h"
#if MOONPOOL_RPC_BENCH_GENERATED
#include "rpc_bench_echo.moonpool.h"
#endif

namespace moonpool {
namespace {

using namespace std::chrono_literals;
using rpc::Framing;

constexpr std::string_view kPayload = "0123456789abcdef";
// Calls per benchmark iteration, split evenly over the workers in flight.
constexpr std::size_t kBatchCalls = 1024;
constexpr std::int64_t kInFlightMax = 32;
static_assert(kBatchCalls % kInFlightMax == 0, "every worker makes the same number of calls");
// Latency samples kept per benchmark run (beyond it calls are counted, not sampled).
constexpr std::size_t kLatencySamplesMax = std::size_t{1} << 22;
// The simulated variant: calls per world, and how long (simulated) a world may take.
constexpr std::size_t kSimCalls = 2048;
constexpr Duration kSimPoll = 100ms;
constexpr std::size_t kSimPollsMax = 36'000;  // an hour of simulated time

// Per-call latencies and wrong answers of one benchmark run.
class CallLog {
 public:
  void record(std::string_view answer, Duration latency) {
    if (answer != kPayload) ++wrong_;
    if (latencyNs_.size() < kLatencySamplesMax) latencyNs_.push_back(latency.count());
  }
  void clear() {
    latencyNs_.clear();
    wrong_ = 0;
  }
  // p50_us / p99_us counters, or an error when an answer was wrong.
  void report(benchmark::State& state) {
    if (wrong_ != 0) state.SkipWithError("the echo answered a different text");
    if (latencyNs_.empty()) return;
    std::sort(latencyNs_.begin(), latencyNs_.end());
    auto percentile = [this](double q) {
      const auto index = static_cast<std::size_t>(q * static_cast<double>(latencyNs_.size() - 1));
      return static_cast<double>(latencyNs_[index]) / 1e3;
    };
    state.counters["p50_us"] = percentile(0.50);
    state.counters["p99_us"] = percentile(0.99);
  }

 private:
  std::vector<std::int64_t> latencyNs_;
  std::uint64_t wrong_ = 0;
};

void countCalls(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatchCalls));
}

// --- servers ---------------------------------------------------------------------------------

using EchoContext = ::capnp::CallContext<Echo::EchoParams, Echo::EchoResults>;

// Hand-written, KJ style: answers before returning.
class KjEcho final : public Echo::Server {
 protected:
  // implements Echo::Server
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }
};

Task<void> echoTask(EchoContext context) {
  context.getResults().setText(context.getParams().getText());
  co_return;
}

// Hand-written, moonpool style: the method is a Task on the executor (toPromise).
class TaskEcho final : public Echo::Server {
 protected:
  // implements Echo::Server
  kj::Promise<void> echo(EchoContext context) override {
    return toPromise(echoTask(context), "echo");
  }
};

// --- the raw Cap'n Proto baseline --------------------------------------------------------------

// One worker: `calls` echoes, one after the other, as a KJ promise chain.
kj::Promise<void> rawWorker(Echo::Client echo, std::size_t calls, CallLog* log) {
  if (calls == 0) return kj::READY_NOW;
  auto request = echo.echoRequest();
  request.setText(kj::StringPtr(kPayload.data(), kPayload.size()));
  const WallTimer timer;
  return request.send().then(
      [echo, calls, log, timer](::capnp::Response<Echo::EchoResults>&& response) mutable {
        log->record(response.getText().cStr(), timer.elapsed());
        return rawWorker(kj::mv(echo), calls - 1, log);
      });
}

kj::Promise<void> rawBatch(Echo::Client echo, std::size_t inFlight, CallLog* log) {
  auto workers = kj::heapArrayBuilder<kj::Promise<void>>(inFlight);
  for (std::size_t i = 0; i < inFlight; ++i) {
    workers.add(rawWorker(echo, kBatchCalls / inFlight, log));
  }
  return kj::joinPromises(workers.finish());
}

void RawCapnp(benchmark::State& state) {
  const auto inFlight = static_cast<std::size_t>(state.range(0));
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::Network& network = io.provider->getNetwork();
  kj::Own<kj::ConnectionReceiver> listener =
      network.parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
  ::capnp::TwoPartyServer server(kj::heap<KjEcho>());
  kj::Promise<void> serving = server.listen(*listener);
  kj::Own<kj::AsyncIoStream> stream = network.parseAddress("127.0.0.1", listener->getPort())
                                          .wait(io.waitScope)
                                          ->connect()
                                          .wait(io.waitScope);
  ::capnp::TwoPartyClient client(*stream);
  Echo::Client echo = client.bootstrap().castAs<Echo>();
  CallLog log;
  rawBatch(echo, 1, &log).wait(io.waitScope);  // warm-up: connection, bootstrap, buffers
  log.clear();
  for (auto _ : state) rawBatch(echo, inFlight, &log).wait(io.waitScope);
  log.report(state);
  countCalls(state);
}
BENCHMARK(RawCapnp)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- moonpool's RpcServer / RpcClient ---------------------------------------------------------

Task<void> taskWorker(Echo::Client echo, std::size_t calls, CallLog* log) {
  for (std::size_t i = 0; i < calls; ++i) {
    const WallTimer timer;
    auto request = echo.echoRequest();
    request.setText(kj::StringPtr(kPayload.data(), kPayload.size()));
    auto response = co_await awaitPromise(request.send());
    log->record(response.getText().cStr(), timer.elapsed());
  }
}

Task<void> taskBatch(Echo::Client echo, std::size_t inFlight, CallLog* log) {
  std::vector<Task<void>> workers;
  for (std::size_t i = 0; i < inFlight; ++i) {
    workers.push_back(taskWorker(echo, kBatchCalls / inFlight, log));
  }
  co_await whenAll(std::move(workers));
}

enum class ServerStyle : std::uint8_t { kTask, kKj };

// --- TLS -------------------------------------------------------------------------------------

// Certificates for the TLS variants, made once per run.
const rpc_testing::TestCertificates& benchCertificates() {
  static const rpc_testing::TestCertificates* made = [] {
    const std::string dir = "/tmp/moonpool-rpc-bench-tls";
    static_cast<void>(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()));
    return new rpc_testing::TestCertificates(dir);
  }();
  return *made;
}

std::string readText(const std::string& path) {
  std::string text;
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
      text.append(buffer, n);
    }
    std::fclose(file);
  }
  return text;
}

std::shared_ptr<rpc::Tls> benchTls(const std::string& name) {
  const rpc_testing::TestCertificates& certificates = benchCertificates();
  const rpc_testing::CertificateFiles files = certificates.of(name);
  return rpc::Tls::fromFiles(
             {.certificate = files.certificate, .key = files.key, .ca = certificates.ca()},
             rpc_testing::TestCertificates::kServerName)
      .orThrow();
}

// A kj::TlsContext for the raw baseline: `name`'s keypair, trusting only the test CA.
struct RawTls {
  explicit RawTls(const std::string& name)
      : key(kj::StringPtr(readText(benchCertificates().of(name).key).c_str())),
        certificate(kj::StringPtr(readText(benchCertificates().of(name).certificate).c_str())),
        ca(kj::StringPtr(readText(benchCertificates().ca()).c_str())),
        keypair{kj::mv(key), kj::mv(certificate)} {
    kj::TlsContext::Options options;
    options.useSystemTrustStore = false;
    options.verifyClients = true;
    options.trustedCertificates = kj::arrayPtr(&ca, 1);
    options.defaultKeypair = keypair;
    context = kj::heap<kj::TlsContext>(kj::mv(options));
  }
  kj::TlsPrivateKey key;
  kj::TlsCertificate certificate;
  kj::TlsCertificate ca;
  kj::TlsKeypair keypair;
  kj::Own<kj::TlsContext> context;
};

void RawCapnpTls(benchmark::State& state) {
  if (!benchCertificates().ok()) {
    state.SkipWithError(benchCertificates().error().c_str());
    return;
  }
  const auto inFlight = static_cast<std::size_t>(state.range(0));
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::Network& network = io.provider->getNetwork();
  RawTls serverTls("kv-1");
  RawTls clientTls("client-1");
  kj::Own<kj::ConnectionReceiver> listener =
      network.parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
  ::capnp::TwoPartyServer server(kj::heap<KjEcho>());
  kj::Promise<void> serving = listener->accept().then(
      [&](kj::Own<kj::AsyncIoStream>&& plain) {
        return serverTls.context->wrapServer(kj::mv(plain));
      }).then([&](kj::Own<kj::AsyncIoStream>&& secured) { server.accept(kj::mv(secured)); })
      .eagerlyEvaluate(nullptr);  // nothing waits on it: run it as events arrive
  kj::Own<kj::AsyncIoStream> plain = network.parseAddress("127.0.0.1", listener->getPort())
                                         .wait(io.waitScope)
                                         ->connect()
                                         .wait(io.waitScope);
  kj::Own<kj::AsyncIoStream> stream =
      clientTls.context->wrapClient(kj::mv(plain), rpc_testing::TestCertificates::kServerName)
          .wait(io.waitScope);
  ::capnp::TwoPartyClient client(*stream);
  Echo::Client echo = client.bootstrap().castAs<Echo>();
  CallLog log;
  rawBatch(echo, 1, &log).wait(io.waitScope);  // warm-up: handshake, bootstrap, buffers
  log.clear();
  for (auto _ : state) rawBatch(echo, inFlight, &log).wait(io.waitScope);
  log.report(state);
  countCalls(state);
}
BENCHMARK(RawCapnpTls)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

Task<void> moonpoolRun(Providers p, benchmark::State* state, Framing framing, ServerStyle style,
                       bool tls = false) {
  const auto inFlight = static_cast<std::size_t>(state->range(0));
  rpc::RpcOptions options;
  options.framing = framing;
  rpc::RpcOptions clientOptions = options;
  if (tls) {
    options.tls = benchTls("kv-1");
    clientOptions.tls = benchTls("client-1");
  }
  ::capnp::Capability::Client bootstrap = style == ServerStyle::kTask
                                              ? ::capnp::Capability::Client(kj::heap<TaskEcho>())
                                              : ::capnp::Capability::Client(kj::heap<KjEcho>());
  auto server = rpc::RpcServer::listen(p.network(), p.time(), NetAddress{kLoopbackIp, 0},
                                         kj::mv(bootstrap), options)
                    .orThrow();
  JoinHandle<void> serving = p.tasks().spawn("serve", server->serve());
  auto client = (co_await rpc::RpcClient::connect(p.network(), server->localAddress(),
                                                  clientOptions))
                    .orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  CallLog log;
  co_await taskBatch(echo, 1, &log);  // warm-up
  log.clear();
  for (auto _ : *state) co_await taskBatch(echo, inFlight, &log);
  log.report(*state);
  serving.cancel();
}

RealRuntimeOptions benchRuntime() {
  return RealRuntimeOptions{.storageRoot = "/tmp/moonpool-rpc-bench", .localIp = kLoopbackIp};
}

void finish(benchmark::State& state, const RunOutcome& outcome) {
  if (!outcome.ok()) state.SkipWithError(outcome.message.c_str());
  countCalls(state);
}

void MoonpoolTaskPlain(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  finish(state, runtime.run(moonpoolRun(runtime.providers(), &state, Framing::kPlain,
                                        ServerStyle::kTask)));
}
BENCHMARK(MoonpoolTaskPlain)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void MoonpoolTaskChecksummed(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  finish(state, runtime.run(moonpoolRun(runtime.providers(), &state, Framing::kChecksummed,
                                        ServerStyle::kTask)));
}
BENCHMARK(MoonpoolTaskChecksummed)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void MoonpoolTls(benchmark::State& state) {
  if (!benchCertificates().ok()) {
    state.SkipWithError(benchCertificates().error().c_str());
    return;
  }
  RealRuntime runtime(benchRuntime());
  finish(state, runtime.run(moonpoolRun(runtime.providers(), &state, Framing::kPlain,
                                        ServerStyle::kTask, /*tls=*/true)));
}
BENCHMARK(MoonpoolTls)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void MoonpoolKjPlain(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  finish(state, runtime.run(moonpoolRun(runtime.providers(), &state, Framing::kPlain,
                                        ServerStyle::kKj)));
}
BENCHMARK(MoonpoolKjPlain)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- the generated path ----------------------------------------------------------------------

#if MOONPOOL_RPC_BENCH_GENERATED
class GeneratedEcho final : public rpcbench::Echo {
 public:
  // implements rpcbench::Echo
  Task<std::string> echo(std::string text) override { co_return text; }
};

Task<void> generatedWorker(rpcbench::schema::EchoClient* echo, std::size_t calls, CallLog* log) {
  for (std::size_t i = 0; i < calls; ++i) {
    const WallTimer timer;
    std::string answer = co_await echo->echo(std::string(kPayload));
    log->record(answer, timer.elapsed());
  }
}

Task<void> generatedBatch(rpcbench::schema::EchoClient* echo, std::size_t inFlight, CallLog* log) {
  std::vector<Task<void>> workers;
  for (std::size_t i = 0; i < inFlight; ++i) {
    workers.push_back(generatedWorker(echo, kBatchCalls / inFlight, log));
  }
  co_await whenAll(std::move(workers));
}

Task<void> generatedRun(Providers p, benchmark::State* state) {
  const auto inFlight = static_cast<std::size_t>(state->range(0));
  rpc::RpcOptions options;
  options.framing = Framing::kPlain;
  GeneratedEcho impl;
  // The default owner group, as a kv_node's servers have: the task's (the calls are members
  // of it, so killing or pausing a simulated process reaches them; no spawn per call).
  auto server = rpc::RpcServer::listen(p.network(), p.time(), NetAddress{kLoopbackIp, 0},
                                         kj::heap<rpcbench::schema::EchoServer>(impl), options)
                    .orThrow();
  JoinHandle<void> serving = p.tasks().spawn("serve", server->serve());
  auto client =
      (co_await rpc::RpcClient::connect(p.network(), server->localAddress(), options)).orThrow();
  rpcbench::schema::EchoClient echo(client->bootstrap().castAs<rpcbench::schema::Echo>());
  CallLog log;
  co_await generatedBatch(&echo, 1, &log);  // warm-up
  log.clear();
  for (auto _ : *state) co_await generatedBatch(&echo, inFlight, &log);
  log.report(*state);
  serving.cancel();
}

void Generated(benchmark::State& state) {
  RealRuntime runtime(benchRuntime());
  finish(state, runtime.run(generatedRun(runtime.providers(), &state)));
}
BENCHMARK(Generated)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#endif

// --- simulated -------------------------------------------------------------------------------

struct SimLoad {
  std::size_t inFlight = 1;
  std::size_t wrong = 0;
  bool done = false;
};

Task<void> simWorker(Echo::Client echo, std::size_t calls, SimLoad* load) {
  for (std::size_t i = 0; i < calls; ++i) {
    std::string answer = co_await rpc_testing::callEcho(echo, std::string(kPayload));
    if (answer != kPayload) ++load->wrong;
  }
}

Task<void> simClientMain(ProcessContext& context, SimLoad* load) {
  Providers p = context.providers();
  co_await p.time().sleep(10ms);  // the server listens first
  const NetAddress server{rpc_testing::kIp1, rpc_testing::kEchoPort};
  auto client = (co_await rpc::RpcClient::connect(p.network(), server)).orThrow();
  Echo::Client echo = client->bootstrap().castAs<Echo>();
  std::vector<Task<void>> workers;
  for (std::size_t i = 0; i < load->inFlight; ++i) {
    workers.push_back(simWorker(echo, kSimCalls / load->inFlight, load));
  }
  co_await whenAll(std::move(workers));
  load->done = true;
}

Task<void> simDriver(SimWorld* world, const SimLoad* load) {
  TimeProvider& time = world->rootProviders().time();
  for (std::size_t i = 0; i < kSimPollsMax && !load->done; ++i) co_await time.sleep(kSimPoll);
}

void SimulatedEcho(benchmark::State& state) {
  static_assert(kSimCalls % kInFlightMax == 0, "every simulated worker makes the same calls");
  std::uint64_t seed = 1;
  for (auto _ : state) {
    rpc_testing::RpcWorld w(seed++);
    rpc_testing::ServerState server;
    SimLoad load{.inFlight = static_cast<std::size_t>(state.range(0)), .wrong = 0, .done = false};
    w.world.addProcess(
        ProcessSpec{.name = "server", .main = bindTask(rpc_testing::echoServerMain, &server)});
    w.world.addProcess(ProcessSpec{.name = "client", .main = bindTask(simClientMain, &load)});
    RunOutcome outcome = w.sim.run(simDriver(&w.world, &load));
    if (!outcome.ok() || !load.done || load.wrong != 0) {
      state.SkipWithError(outcome.ok() ? "the simulated echo did not complete correctly"
                                       : outcome.message.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSimCalls));
}
BENCHMARK(SimulatedEcho)->ArgName("inflight")->Arg(1)->Arg(kInFlightMax)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moonpool

BENCHMARK_MAIN();
