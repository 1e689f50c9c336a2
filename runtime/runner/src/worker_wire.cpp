// The worker pipe protocol (see worker_wire.h).
#include "worker_wire.h"

#include <unistd.h>

#include <cerrno>

#include "moonpool/check.h"

namespace moonpool::internal {
namespace {

enum class Tag : std::uint8_t { kBegin = 'B', kResult = 'R', kEnd = 'E', kCheck = 'C' };
constexpr std::size_t kHeaderBytes = 1 + 8;

void putU64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

void putString(std::string& out, std::string_view text) {
  putU64(out, text.size());
  out += text;
}

std::uint64_t readU64(const char* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// Reads fields from one payload; any overrun marks it bad (and returns zeros).
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}

  std::uint64_t u64() {
    if (bad_ || bytes_.size() - at_ < 8) return fail();
    const std::uint64_t value = readU64(bytes_.data() + at_);
    at_ += 8;
    return value;
  }
  std::string str() {
    const std::uint64_t size = u64();
    if (bad_ || bytes_.size() - at_ < size) {
      fail();
      return {};
    }
    std::string out(bytes_.substr(at_, size));
    at_ += size;
    return out;
  }
  // A count of items each at least `itemBytesMin` long: checked against what is left.
  std::uint64_t count(std::uint64_t itemBytesMin) {
    const std::uint64_t n = u64();
    if (bad_ || n > (bytes_.size() - at_) / itemBytesMin) return fail();
    return n;
  }
  bool done() const { return !bad_ && at_ == bytes_.size(); }

 private:
  std::uint64_t fail() {
    bad_ = true;
    return 0;
  }

  std::string_view bytes_;
  std::size_t at_ = 0;
  bool bad_ = false;
};

std::string encodeResult(const SeedResult& r) {
  std::string out;
  for (std::uint64_t v :
       {r.index, r.seed, std::uint64_t{static_cast<std::uint8_t>(r.verdict)},
        std::uint64_t{static_cast<std::uint8_t>(r.failure)},
        static_cast<std::uint64_t>(r.wall.count()), static_cast<std::uint64_t>(r.simulated.count()),
        r.steps, r.decisionHash, r.randomCalls, r.assertionFailures}) {
    putU64(out, v);
  }
  putString(out, r.message);
  putString(out, r.config);
  putU64(out, r.faultCounts.size());
  for (const auto& [kind, count] : r.faultCounts) {
    putString(out, kind);
    putU64(out, count);
  }
  putU64(out, r.metrics.size());
  for (const auto& [name, metric] : r.metrics) {
    putString(out, name);
    putU64(out, static_cast<std::uint8_t>(metric.kind));
    putU64(out, static_cast<std::uint64_t>(metric.value));
  }
  putU64(out, r.buggify.size());
  for (const BuggifySiteTotal& b : r.buggify) {
    putString(out, b.file);
    for (std::uint64_t v :
         {std::uint64_t{b.line}, b.seedsEvaluated, b.seedsActive, b.evaluated, b.fired}) {
      putU64(out, v);
    }
  }
  putU64(out, r.trace.size());
  for (const std::string& line : r.trace) putString(out, line);
  return out;
}

void decodeCollections(Cursor& in, SeedResult& r) {
  for (std::uint64_t n = in.count(16); n > 0; --n) {
    std::string kind = in.str();
    r.faultCounts[kind] = in.u64();
  }
  for (std::uint64_t n = in.count(24); n > 0; --n) {
    std::string name = in.str();
    const std::uint64_t kind = in.u64();
    const auto value = static_cast<std::int64_t>(in.u64());
    r.metrics[name] =
        Metric{.kind = kind == 0 ? Metric::Kind::kSum : Metric::Kind::kMax, .value = value};
  }
  for (std::uint64_t n = in.count(48); n > 0; --n) {
    BuggifySiteTotal b;
    b.file = in.str();
    b.line = static_cast<std::uint32_t>(in.u64());
    b.seedsEvaluated = in.u64();
    b.seedsActive = in.u64();
    b.evaluated = in.u64();
    b.fired = in.u64();
    r.buggify.push_back(std::move(b));
  }
  for (std::uint64_t n = in.count(8); n > 0; --n) r.trace.push_back(in.str());
}

std::optional<SeedResult> decodeResult(std::string_view payload) {
  Cursor in(payload);
  SeedResult r;
  r.index = in.u64();
  r.seed = in.u64();
  const std::uint64_t verdict = in.u64();
  const std::uint64_t failure = in.u64();
  if (verdict > 1 || failure > static_cast<std::uint8_t>(kSeedFailureLast))
    return std::nullopt;
  r.verdict = static_cast<SeedVerdict>(verdict);
  r.failure = static_cast<SeedFailure>(failure);
  r.wall = Duration(static_cast<Duration::rep>(in.u64()));
  r.simulated = Duration(static_cast<Duration::rep>(in.u64()));
  r.steps = in.u64();
  r.decisionHash = in.u64();
  r.randomCalls = in.u64();
  r.assertionFailures = in.u64();
  r.message = in.str();
  r.config = in.str();
  decodeCollections(in, r);
  if (!in.done()) return std::nullopt;
  return r;
}

}  // namespace

std::string encodeFrame(const Frame& frame) {
  std::string payload;
  Tag tag = Tag::kEnd;
  if (const auto* begin = std::get_if<BeginFrame>(&frame)) {
    tag = Tag::kBegin;
    putU64(payload, begin->index);
    putU64(payload, begin->seed);
  } else if (const auto* result = std::get_if<SeedResult>(&frame)) {
    tag = Tag::kResult;
    payload = encodeResult(*result);
  } else if (const auto* check = std::get_if<CheckFrame>(&frame)) {
    tag = Tag::kCheck;
    putString(payload, check->report);
  } else {
    putString(payload, std::get<EndFrame>(frame).stopReason);
  }
  MOONPOOL_CHECK_LE(payload.size(), kFrameBytesMax, "a worker frame exceeds kFrameBytesMax");
  std::string out(1, static_cast<char>(tag));
  putU64(out, payload.size());
  return out + payload;
}

std::optional<Frame> FrameReader::next() {
  if (!error_.empty() || buffer_.size() < kHeaderBytes) return std::nullopt;
  const auto tag = static_cast<Tag>(buffer_[0]);
  const std::uint64_t size = readU64(buffer_.data() + 1);
  if (size > kFrameBytesMax) {
    error_ = "frame of " + std::to_string(size) + " bytes exceeds kFrameBytesMax";
    return std::nullopt;
  }
  if (buffer_.size() - kHeaderBytes < size) return std::nullopt;
  const std::string_view payload(buffer_.data() + kHeaderBytes, size);
  std::optional<Frame> frame;
  if (tag == Tag::kBegin) {
    Cursor in(payload);
    BeginFrame begin{.index = in.u64(), .seed = in.u64()};
    if (in.done()) frame = begin;
  } else if (tag == Tag::kResult) {
    if (std::optional<SeedResult> result = decodeResult(payload)) frame = std::move(*result);
  } else if (tag == Tag::kEnd) {
    Cursor in(payload);
    EndFrame end{.stopReason = in.str()};
    if (in.done()) frame = std::move(end);
  } else if (tag == Tag::kCheck) {
    Cursor in(payload);
    CheckFrame check{.report = in.str()};
    if (in.done()) frame = std::move(check);
  }
  if (!frame) {
    error_ = "malformed frame (tag " + std::to_string(static_cast<int>(tag)) + ")";
    return std::nullopt;
  }
  buffer_.erase(0, kHeaderBytes + size);
  return frame;
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace moonpool::internal
