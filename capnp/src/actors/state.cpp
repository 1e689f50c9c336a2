// Durable actor state: the storage-backed StateStore and ActorState's untyped half
// (state.h).
//
// A state file: "MPAS" | u32 format version | u64 etag | u32 length | bytes | u32 CRC32C of
// everything before it, integers little-endian.
#include "moonpool/actors/state.h"

#include <array>
#include <cctype>
#include <cstring>
#include <span>
#include <vector>

#include "moonpool/actors/runtime.h"
#include "moonpool/rpc/crc32c.h"

namespace moonpool::actors {
namespace {

constexpr std::array<char, 4> kMagic = {'M', 'P', 'A', 'S'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 4;
constexpr std::size_t kTrailerBytes = 4;

void putLittle(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t getLittle(const std::string& in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  }
  return value;
}

std::uint32_t crcOf(const std::string& data, std::size_t length) {
  return rpc::crc32c(std::as_bytes(std::span(data.data(), length)));
}

std::string encodeRecord(std::uint64_t etag, const std::string& bytes) {
  std::string record(kMagic.begin(), kMagic.end());
  putLittle(record, kFormatVersion, 4);
  putLittle(record, etag, 8);
  putLittle(record, bytes.size(), 4);
  record += bytes;
  putLittle(record, crcOf(record, record.size()), 4);
  return record;
}

[[noreturn]] void corrupt(const std::string& file, const std::string& why) {
  throw ActorError(ActorFailure::kStateCorrupt, "state file '" + file + "' is corrupt: " + why);
}

StoredState decodeRecord(const std::string& file, const std::string& record) {
  if (record.size() < kHeaderBytes + kTrailerBytes) {
    corrupt(file, std::to_string(record.size()) + " bytes, shorter than a header and CRC");
  }
  if (std::memcmp(record.data(), kMagic.data(), kMagic.size()) != 0) corrupt(file, "bad magic");
  const std::uint64_t length = getLittle(record, 16, 4);
  if (length != record.size() - kHeaderBytes - kTrailerBytes) {
    corrupt(file, "length field " + std::to_string(length) + " but " +
                      std::to_string(record.size() - kHeaderBytes - kTrailerBytes) +
                      " bytes of state");
  }
  const std::uint32_t stored = static_cast<std::uint32_t>(getLittle(record, record.size() - 4, 4));
  const std::uint32_t computed = crcOf(record, record.size() - kTrailerBytes);
  if (stored != computed) {
    corrupt(file, "CRC " + std::to_string(stored) + " stored, " + std::to_string(computed) +
                      " computed");
  }
  const std::uint64_t version = getLittle(record, 4, 4);
  if (version != kFormatVersion) corrupt(file, "format version " + std::to_string(version));
  StoredState state{getLittle(record, 8, 8), record.substr(kHeaderBytes, length)};
  if (state.etag == 0) corrupt(file, "etag 0");
  return state;
}

[[noreturn]] void ioFailure(const std::string& what, const IoError& error) {
  throw ActorError(ActorFailure::kStateIo, what + ": " + error.toString());
}

}  // namespace

std::string StorageStateStore::fileName(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string file = "actor-state-";
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '_' || c == '.' || c == '-') {
      file.push_back(c);
    } else {
      file += {'%', kHex[byte >> 4], kHex[byte & 0xf]};
    }
  }
  return file;
}

Task<std::optional<StoredState>> StorageStateStore::readPath(const std::string& path) {
  IoResult<std::unique_ptr<File>> file = co_await storage_.open(path, OpenMode::kOpenExisting);
  if (!file.ok() && file.error().kind == IoErrorKind::kNotFound) co_return std::nullopt;
  if (!file.ok()) ioFailure("opening state file '" + path + "'", file.error());
  IoResult<std::uint64_t> size = co_await (*file)->size();
  if (!size.ok()) ioFailure("sizing state file '" + path + "'", size.error());
  if (*size > kStateBytesMax + kHeaderBytes + kTrailerBytes) {
    corrupt(path, std::to_string(*size) + " bytes, over kStateBytesMax");
  }
  std::vector<std::byte> buffer(*size);
  IoResult<std::size_t> got = co_await (*file)->read(0, buffer);
  if (!got.ok()) ioFailure("reading state file '" + path + "'", got.error());
  std::string record(reinterpret_cast<const char*>(buffer.data()), *got);
  co_return decodeRecord(path, record);
}

Task<std::optional<StoredState>> StorageStateStore::readFile(const std::string& name) {
  const std::string path = fileName(name);
  std::string primaryFailure;
  try {
    co_return co_await readPath(path);
  } catch (const ActorError& error) {
    if (error.failure() != ActorFailure::kStateCorrupt) throw;
    primaryFailure = error.description();
  }
  // The file is corrupt: its copy, written after it by every write, holds the same state
  // (or, after a crash between the two, the one before an unacknowledged write).
  std::optional<StoredState> copy;
  std::string copyFailure = "it has no copy";
  try {
    copy = co_await readPath(path + kCopySuffix);
  } catch (const ActorError& error) {
    if (error.failure() != ActorFailure::kStateCorrupt) throw;
    copyFailure = "its copy too: " + error.description();
  }
  if (!copy.has_value()) {
    throw ActorError(ActorFailure::kStateCorrupt, primaryFailure + "; " + copyFailure);
  }
  co_return copy;
}

Task<std::optional<StoredState>> StorageStateStore::read(std::string name) {
  co_return co_await readFile(name);
}

Task<std::uint64_t> StorageStateStore::write(std::string name, std::uint64_t expectedEtag,
                                             std::string bytes) {
  if (bytes.size() > kStateBytesMax) {
    throw ActorError(ActorFailure::kStateIo,
                     "state '" + name + "' of " + std::to_string(bytes.size()) +
                         " bytes is over kStateBytesMax (" + std::to_string(kStateBytesMax) +
                         ")");
  }
  Mutex::Guard serialized = co_await writes_.lock();
  std::optional<StoredState> current = co_await readFile(name);
  const std::uint64_t currentEtag = current.has_value() ? current->etag : 0;
  if (currentEtag != expectedEtag) {
    throw ActorError(ActorFailure::kStateConflict,
                     "state '" + name + "' has etag " + std::to_string(currentEtag) +
                         ", the writer expected " + std::to_string(expectedEtag) +
                         " (someone wrote it since this writer last read it)");
  }
  const std::uint64_t etag = currentEtag + 1;
  const std::string path = fileName(name);
  const std::string record = encodeRecord(etag, bytes);
  co_await replaceFile(path, record);
  co_await replaceFile(path + kCopySuffix, record);
  co_return etag;
}

// Writes `record` to "<path>.tmp", syncs it, reads it back and renames it over `path`.
Task<void> StorageStateStore::replaceFile(const std::string& path, const std::string& record) {
  const std::string temporary = path + ".tmp";
  IoResult<std::unique_ptr<File>> file =
      co_await storage_.open(temporary, OpenMode::kCreateTruncate);
  if (!file.ok()) ioFailure("creating '" + temporary + "'", file.error());
  IoResult<void> wrote = co_await (*file)->write(0, std::as_bytes(std::span(record)));
  if (!wrote.ok()) ioFailure("writing '" + temporary + "'", wrote.error());
  IoResult<void> synced = co_await (*file)->sync();
  if (!synced.ok()) ioFailure("syncing '" + temporary + "'", synced.error());
  // Read it back before it replaces the state: a disk may acknowledge a write it never
  // made (or made elsewhere), and renaming such a file would bring back an older state.
  std::vector<std::byte> check(record.size() + 1);
  IoResult<std::size_t> got = co_await (*file)->read(0, check);
  if (!got.ok()) ioFailure("reading back '" + temporary + "'", got.error());
  if (*got != record.size() ||
      std::memcmp(check.data(), record.data(), record.size()) != 0) {
    throw ActorError(ActorFailure::kStateIo, "'" + temporary + "' does not hold what was " +
                                                 "written (a lost or misdirected write)");
  }
  IoResult<void> renamed = co_await storage_.rename(temporary, path);
  if (!renamed.ok()) ioFailure("renaming '" + temporary + "' to '" + path + "'", renamed.error());
}

namespace internal {

namespace {

StateStore& storeOf(ActorContext& context) {
  StateStore* store = context.runtime().stateStore();
  MOONPOOL_CHECK(store != nullptr, "an ActorState of " + std::string(context.typeName()) +
                                       " in a runtime without a StateStore "
                                       "(ActorRuntime::setStateStore)");
  return *store;
}

}  // namespace

StateSlot::StateSlot(ActorContext& context, std::string_view stateName)
    : context_(context),
      store_(storeOf(context)),
      name_(std::string(context.typeName()) + "/" + context.key().toString() + "/" +
            std::string(stateName)) {}

bool StateSlot::fencing() const { return context_.runtime().cluster() != nullptr; }

Task<std::optional<std::string>> StateSlot::loadBytes() {
  std::optional<StoredState> stored = co_await store_.read(name_);
  loaded_ = true;
  etag_ = stored.has_value() ? stored->etag : 0;
  if (!stored.has_value()) co_return std::nullopt;
  co_return std::move(stored->bytes);
}

Task<void> StateSlot::writeBytes(std::string bytes) {
  if (!context_.serving()) {
    throw ActorError(ActorFailure::kNotHere,
                     "state '" + name_ + "' not written: this activation no longer serves " +
                         "its key (the host lost the key's lease, or the activation went away)");
  }
  etag_ = co_await store_.write(name_, etag_, std::move(bytes));
}

}  // namespace internal

}  // namespace moonpool::actors
