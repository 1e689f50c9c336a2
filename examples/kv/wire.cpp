// The KV wire protocol (see wire.h).
#include "wire.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/internal/check.h"

namespace moonpool::kv {
namespace {

// Field encoders, one per message type (overloads chosen by std::visit).
void encodeBody(ByteWriter& w, const PutRequest& m) {
  w.u64(m.requestId);
  w.u32(m.clientId);
  encodeEntry(w, m.entry);
}
void encodeBody(ByteWriter& w, const PutReply& m) {
  w.u64(m.requestId);
  w.u8(static_cast<std::uint8_t>(m.status));
}
void encodeBody(ByteWriter& w, const GetRequest& m) {
  w.u64(m.requestId);
  w.text(m.key);
}
void encodeBody(ByteWriter& w, const GetReply& m) {
  w.u64(m.requestId);
  w.u8(static_cast<std::uint8_t>(m.status));
  w.u8(static_cast<std::uint8_t>(m.found));
  w.u64(m.version);
  w.text(m.value);
}
void encodeBody(ByteWriter& w, const ClaimRequest& m) { w.u64(m.epoch); }
void encodeBody(ByteWriter& w, const ClaimReply& m) {
  w.u8(static_cast<std::uint8_t>(m.status));
  w.u64(m.promised);
  w.u64(m.length);
  w.u64(m.hash);
}
void encodeEntries(ByteWriter& w, const std::vector<Entry>& entries) {
  MOONPOOL_CHECK_LE(entries.size(), kEntriesPerMessageMax);
  w.u32(static_cast<std::uint32_t>(entries.size()));
  for (const Entry& e : entries) encodeEntry(w, e);
}
void encodeBody(ByteWriter& w, const AppendRequest& m) {
  w.u64(m.epoch);
  w.u64(m.from);
  w.u64(m.prevHash);
  encodeEntries(w, m.entries);
}
void encodeBody(ByteWriter& w, const AppendReply& m) {
  w.u8(static_cast<std::uint8_t>(m.status));
  w.u64(m.promised);
  w.u64(m.length);
}
void encodeBody(ByteWriter& w, const FetchRequest& m) { w.u64(m.from); }
void encodeBody(ByteWriter& w, const FetchReply& m) {
  w.u8(static_cast<std::uint8_t>(m.status));
  w.u64(m.promised);
  w.u64(m.length);
  w.u64(m.prevHash);
  encodeEntries(w, m.entries);
}

// Reads fields in order and keeps the first error, naming the field: the decoders read
// straight through and return status() at the end.
class Fields {
 public:
  explicit Fields(ByteReader& in) : in_(in) {}

  std::uint8_t u8(const char* field) { return orFail(in_.u8(), field); }
  std::uint32_t u32(const char* field) { return orFail(in_.u32(), field); }
  std::uint64_t u64(const char* field) { return orFail(in_.u64(), field); }
  std::string text(const char* field, std::size_t bytesMax) {
    return orFail(in_.text(bytesMax), field);
  }
  Status status() {
    const std::uint8_t raw = u8("status");
    if (raw > kStatusMax) fail(absl::StrCat("unknown status ", raw));
    return static_cast<Status>(raw);
  }
  Found found() {
    const std::uint8_t raw = u8("found");
    if (raw > 1) fail(absl::StrCat("bad 'found' byte ", raw));
    return raw == 1 ? Found::kYes : Found::kNo;
  }
  Entry entry() {
    if (!error_.ok()) return {};
    absl::StatusOr<Entry> entry = decodeEntry(in_);
    if (!entry.ok()) error_ = entry.status();
    return entry.ok() ? std::move(*entry) : Entry{};
  }
  std::vector<Entry> entries() {
    const std::uint32_t count = u32("entry count");
    std::vector<Entry> out;
    if (count > kEntriesPerMessageMax) {
      fail(absl::StrCat(count, " entries in one message (kEntriesPerMessageMax is ",
                        kEntriesPerMessageMax, ")"));
    }
    for (std::uint32_t i = 0; i < count && error_.ok(); ++i) out.push_back(entry());
    return out;
  }
  const absl::Status& error() const { return error_; }

 private:
  template <typename T>
  T orFail(std::optional<T> value, const char* field) {
    if (!value) fail(absl::StrCat("truncated or oversized field '", field, "'"));
    return value ? std::move(*value) : T{};
  }
  void fail(std::string reason) {
    if (error_.ok()) error_ = absl::InvalidArgumentError(std::move(reason));
  }

  ByteReader& in_;
  absl::Status error_;
};

void decodeBody(Fields& f, PutRequest& m) {
  m.requestId = f.u64("request id");
  m.clientId = f.u32("client id");
  m.entry = f.entry();
}
void decodeBody(Fields& f, PutReply& m) {
  m.requestId = f.u64("request id");
  m.status = f.status();
}
void decodeBody(Fields& f, GetRequest& m) {
  m.requestId = f.u64("request id");
  m.key = f.text("key", kKeyBytesMax);
}
void decodeBody(Fields& f, GetReply& m) {
  m.requestId = f.u64("request id");
  m.status = f.status();
  m.found = f.found();
  m.version = f.u64("version");
  m.value = f.text("value", kValueBytesMax);
}
void decodeBody(Fields& f, ClaimRequest& m) { m.epoch = f.u64("epoch"); }
void decodeBody(Fields& f, ClaimReply& m) {
  m.status = f.status();
  m.promised = f.u64("promised");
  m.length = f.u64("length");
  m.hash = f.u64("hash");
}
void decodeBody(Fields& f, AppendRequest& m) {
  m.epoch = f.u64("epoch");
  m.from = f.u64("from");
  m.prevHash = f.u64("previous hash");
  m.entries = f.entries();
}
void decodeBody(Fields& f, AppendReply& m) {
  m.status = f.status();
  m.promised = f.u64("promised");
  m.length = f.u64("length");
}
void decodeBody(Fields& f, FetchRequest& m) { m.from = f.u64("from"); }
void decodeBody(Fields& f, FetchReply& m) {
  m.status = f.status();
  m.promised = f.u64("promised");
  m.length = f.u64("length");
  m.prevHash = f.u64("previous hash");
  m.entries = f.entries();
}

// Builds the alternative with the type tag `tag` (the variant index + 1) and decodes it.
template <std::size_t I = 0>
absl::StatusOr<Message> decodeAlternative(std::size_t index, ByteReader& r) {
  if constexpr (I == std::variant_size_v<Message>) {
    internal::checkFailed("index < variant size", "decodeAlternative past the last type",
                          std::source_location::current());
  } else {
    if (index != I) return decodeAlternative<I + 1>(index, r);
    std::variant_alternative_t<I, Message> body;
    Fields fields(r);
    decodeBody(fields, body);
    if (!fields.error().ok()) return fields.error();
    return Message(std::in_place_index<I>, std::move(body));
  }
}

constexpr std::array<const char*, std::variant_size_v<Message>> kMessageNames = {
    "put", "put_reply", "get", "get_reply", "claim", "claim_reply",
    "append", "append_reply", "fetch", "fetch_reply"};

}  // namespace

const char* statusName(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kNotReady: return "not_ready";
    case Status::kUnavailable: return "unavailable";
    case Status::kNotPrimary: return "not_primary";
    case Status::kStale: return "stale";
    case Status::kBehind: return "behind";
    case Status::kRejected: return "rejected";
  }
  return "unknown";
}

const char* messageName(const Message& message) { return kMessageNames[message.index()]; }

Bytes encodeMessage(const Message& message) {
  Bytes out;
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(message.index() + 1));
  std::visit([&w](const auto& body) { encodeBody(w, body); }, message);
  return out;
}

absl::StatusOr<Message> decodeMessage(std::span<const std::byte> payload) {
  ByteReader r(payload);
  std::optional<std::uint8_t> tag = r.u8();
  if (!tag) return absl::InvalidArgumentError("empty payload (no message type)");
  if (*tag == 0 || *tag > std::variant_size_v<Message>) {
    return absl::InvalidArgumentError(absl::StrCat("unknown message type ", *tag));
  }
  absl::StatusOr<Message> message = decodeAlternative(std::size_t{*tag} - 1, r);
  if (!message.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed ", kMessageNames[std::size_t{*tag} - 1], ": ", message.status().message()));
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(r.remaining(), " trailing byte(s) after ",
                                                   messageName(*message)));
  }
  return message;
}

Bytes encodeFrame(const Message& message) {
  const Bytes payload = encodeMessage(message);
  MOONPOOL_CHECK_LE(payload.size(), kFramePayloadBytesMax, "an outgoing message is too large");
  Bytes frame;
  frame.reserve(kFrameHeaderBytes + payload.size());
  ByteWriter w(frame);
  w.u32(static_cast<std::uint32_t>(payload.size()));
  w.u32(crc32c(payload));
  w.u32(crc32c(std::span(frame.data(), 8)));
  w.raw(payload);
  return frame;
}

absl::StatusOr<FrameHeader> decodeFrameHeader(
    std::span<const std::byte, kFrameHeaderBytes> header) {
  ByteReader r(header);
  FrameHeader out;
  out.payloadBytes = *r.u32();
  out.payloadCrc = *r.u32();
  const std::uint32_t headerCrc = *r.u32();
  if (headerCrc != crc32c(header.first(8))) {
    return absl::DataLossError("frame header checksum mismatch");
  }
  if (out.payloadBytes == 0 || out.payloadBytes > kFramePayloadBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("frame length ", out.payloadBytes,
                                                   " outside [1, ", kFramePayloadBytesMax, "]"));
  }
  return out;
}

absl::StatusOr<Message> decodeFramePayload(const FrameHeader& header,
                                           std::span<const std::byte> payload) {
  if (payload.size() != header.payloadBytes) {
    return absl::InvalidArgumentError(absl::StrCat("payload of ", payload.size(),
                                                   " bytes, header says ", header.payloadBytes));
  }
  if (crc32c(payload) != header.payloadCrc) {
    return absl::DataLossError(
        absl::StrCat("payload checksum mismatch (", header.payloadBytes, " bytes)"));
  }
  return decodeMessage(payload);
}

Task<absl::StatusOr<Message>> readMessage(Connection& connection) {
  std::array<std::byte, kFrameHeaderBytes> header{};
  IoResult<void> got = co_await connection.readExactly(header);
  if (!got.ok()) co_return absl::UnavailableError(got.error().toString());
  absl::StatusOr<FrameHeader> decoded = decodeFrameHeader(header);
  if (!decoded.ok()) co_return decoded.status();
  Bytes payload(decoded->payloadBytes);
  got = co_await connection.readExactly(payload);
  if (!got.ok()) co_return absl::UnavailableError(got.error().toString());
  co_return decodeFramePayload(*decoded, payload);
}

Task<absl::Status> writeMessage(Connection& connection, Message message) {
  const Bytes frame = encodeFrame(message);
  IoResult<void> sent = co_await connection.writeAll(frame);
  if (!sent.ok()) co_return absl::UnavailableError(sent.error().toString());
  co_return absl::OkStatus();
}

bool isCorruptFrame(const absl::Status& status) {
  return status.code() == absl::StatusCode::kDataLoss ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

}  // namespace moonpool::kv
