// POSIX files under a root directory (see real/real_storage.h).
//
// Plain system calls, no KJ: every operation completes before its Task first suspends.
// The directory tree is kept free of empty directories (remove() and rename() prune the
// parents they emptied), so the namespace behaves like the flat one of SimStorage: a name
// that once held files can become a file again.
#include "moonpool/real/real_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "moonpool/check.h"

namespace moonpool {

namespace {

// Bounds a recursive list(): a root with more files is reported, not walked forever.
constexpr std::size_t kListEntriesMax = 1'000'000;
constexpr std::size_t kListDepthMax = 64;
constexpr mode_t kFileMode = 0644;
constexpr mode_t kDirectoryMode = 0755;

IoError errnoError(int error, const std::string& operation, const std::string& path) {
  IoErrorKind kind = IoErrorKind::kIo;
  switch (error) {
    case ENOENT:
      kind = IoErrorKind::kNotFound;
      break;
    case EEXIST:
      kind = IoErrorKind::kAlreadyExists;
      break;
    case EINVAL:
      kind = IoErrorKind::kInvalidArgument;
      break;
    default:
      break;
  }
  return IoError{kind, operation + " '" + path + "': " + std::strerror(error)};
}

std::string parentOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// The directory whose entries name `directory` ("/" and "." for top-level names).
std::string containingDirectory(const std::string& directory) {
  std::string parent = parentOf(directory);
  if (!parent.empty()) return parent;
  return directory.starts_with('/') ? "/" : ".";
}

void notify(SyncObserver* observer, SyncTarget target, const std::string& path) {
  if (observer != nullptr) observer->synced(target, path);
}

// Makes a change to `directory`'s entries durable.
IoResult<void> syncDirectory(const std::string& directory, SyncObserver* observer) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoError(errno, "open directory", directory);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return errnoError(error, "fsync directory", directory);
  notify(observer, SyncTarget::kDirectory, directory);
  return IoResult<void>();
}

// mkdir -p for `directory` (absolute or relative to the working directory). Existing
// non-directories along the way are kIo. Each directory it creates is made durable in its
// parent before anything is created inside it, so a crash never keeps a file whose
// directory chain was lost.
IoResult<void> makeDirectories(const std::string& directory, SyncObserver* observer) {
  if (directory.empty()) return IoResult<void>();
  struct stat info {};
  if (::stat(directory.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return IoResult<void>();
    return errnoError(ENOTDIR, "mkdir", directory);
  }
  if (IoResult<void> parent = makeDirectories(parentOf(directory), observer); !parent.ok()) {
    return parent;
  }
  if (::mkdir(directory.c_str(), kDirectoryMode) != 0) {
    if (errno == EEXIST) return IoResult<void>();  // made by someone else meanwhile
    return errnoError(errno, "mkdir", directory);
  }
  return syncDirectory(containingDirectory(directory), observer);
}

IoResult<void> checkOffset(std::uint64_t offset, std::size_t length, const std::string& path) {
  constexpr auto kOffsetMax = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());
  if (offset <= kOffsetMax && length <= kOffsetMax - offset) return IoResult<void>();
  return IoError{IoErrorKind::kInvalidArgument,
                 "offset " + std::to_string(offset) + " is out of range for '" + path + "'"};
}

class RealFile final : public File {
 public:
  RealFile(int fd, std::string path, SyncObserver* observer)
      : fd_(fd), path_(std::move(path)), observer_(observer) {
    MOONPOOL_CHECK_GE(fd_, 0, "RealFile needs an open descriptor");
  }
  RealFile(const RealFile&) = delete;
  RealFile& operator=(const RealFile&) = delete;
  ~RealFile() override { ::close(fd_); }

  // implements File
  Task<IoResult<std::size_t>> read(std::uint64_t offset, std::span<std::byte> buffer) override {
    if (IoResult<void> ok = checkOffset(offset, buffer.size(), path_); !ok.ok()) {
      co_return ok.error();
    }
    std::size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t got = ::pread(fd_, buffer.data() + done, buffer.size() - done,
                                  static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) co_return errnoError(errno, "read", path_);
      if (got == 0) break;  // end of file
      done += static_cast<std::size_t>(got);
    }
    co_return done;
  }
  Task<IoResult<void>> write(std::uint64_t offset, std::span<const std::byte> bytes) override {
    if (IoResult<void> ok = checkOffset(offset, bytes.size(), path_); !ok.ok()) co_return ok;
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t put = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                   static_cast<off_t>(offset + done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) co_return errnoError(errno, "write", path_);
      MOONPOOL_CHECK_GT(put, ssize_t{0}, "pwrite wrote nothing without an error");
      done += static_cast<std::size_t>(put);
    }
    co_return IoResult<void>();
  }
  Task<IoResult<void>> sync() override {
    if (::fsync(fd_) != 0) co_return errnoError(errno, "fsync", path_);
    notify(observer_, SyncTarget::kFile, path_);
    co_return IoResult<void>();
  }
  Task<IoResult<std::uint64_t>> size() override {
    struct stat info {};
    if (::fstat(fd_, &info) != 0) co_return errnoError(errno, "fstat", path_);
    MOONPOOL_CHECK_GE(info.st_size, off_t{0});
    co_return static_cast<std::uint64_t>(info.st_size);
  }
  Task<IoResult<void>> truncate(std::uint64_t size) override {
    if (IoResult<void> ok = checkOffset(size, 0, path_); !ok.ok()) co_return ok;
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      co_return errnoError(errno, "ftruncate", path_);
    }
    co_return IoResult<void>();
  }

 private:
  int fd_;
  std::string path_;  // relative, for messages
  SyncObserver* observer_;
};

int openFlags(OpenMode mode) {
  constexpr int kBase = O_RDWR | O_CLOEXEC;
  switch (mode) {
    case OpenMode::kOpenExisting:
      return kBase;
    case OpenMode::kCreate:
      return kBase | O_CREAT;
    case OpenMode::kCreateNew:
      return kBase | O_CREAT | O_EXCL;
    case OpenMode::kCreateTruncate:
      return kBase | O_CREAT | O_TRUNC;
  }
  internal::checkFailed("mode", "unknown OpenMode", std::source_location::current());
}

// Appends every regular file under root/relative (recursively) to `names`.
IoResult<void> listInto(const std::string& root, const std::string& relative, std::size_t depth,
                        std::vector<std::string>& names) {
  const std::string directory = relative.empty() ? root : root + "/" + relative;
  if (depth > kListDepthMax) return errnoError(ELOOP, "list (too deep)", directory);
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return errnoError(errno, "opendir", directory);
  IoResult<void> result;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string child = relative.empty() ? name : relative + "/" + name;
    struct stat info {};
    if (::lstat((root + "/" + child).c_str(), &info) != 0) {
      result = errnoError(errno, "lstat", child);
      break;
    }
    if (S_ISDIR(info.st_mode)) {
      result = listInto(root, child, depth + 1, names);
      if (!result.ok()) break;
    } else if (S_ISREG(info.st_mode)) {
      if (names.size() >= kListEntriesMax) {
        result = IoError{IoErrorKind::kIo, "list: more than " + std::to_string(kListEntriesMax) +
                                               " files under '" + root + "'"};
        break;
      }
      names.push_back(child);
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

RealStorageProvider::RealStorageProvider(std::string rootDirectory, SyncObserver* observer)
    : root_(std::move(rootDirectory)), observer_(observer) {
  MOONPOOL_CHECK(!root_.empty(), "RealStorageProvider needs a root directory");
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  // The root is created by the first create (open() makes missing parents), so a runtime
  // that never writes leaves no directory behind.
}

RealStorageProvider::~RealStorageProvider() = default;

std::string RealStorageProvider::absolute(const std::string& relative) const {
  return root_ + "/" + relative;
}

void RealStorageProvider::pruneEmptyParents(const std::string& relative) const {
  // rmdir fails on a non-empty directory, which ends the walk: exactly what we want.
  for (std::string parent = parentOf(relative); !parent.empty(); parent = parentOf(parent)) {
    if (::rmdir(absolute(parent).c_str()) != 0) break;
  }
}

Task<IoResult<std::unique_ptr<File>>> RealStorageProvider::open(std::string path, OpenMode mode) {
  if (IoResult<void> valid = validateStoragePath(path); !valid.ok()) co_return valid.error();
  const std::string full = absolute(path);
  const std::string directory = parentOf(full);
  if (mode != OpenMode::kOpenExisting) {
    IoResult<void> made = makeDirectories(directory, observer_);
    if (!made.ok()) co_return made.error();
  }
  const int fd = ::open(full.c_str(), openFlags(mode), kFileMode);
  if (fd < 0) co_return errnoError(errno, "open", path);
  auto file = std::make_unique<RealFile>(fd, path, observer_);
  if (mode != OpenMode::kOpenExisting) {
    // A created name must survive a crash, as in SimStorage.
    IoResult<void> synced = syncDirectory(directory, observer_);
    if (!synced.ok()) co_return synced.error();
  }
  co_return std::unique_ptr<File>(std::move(file));
}

Task<IoResult<void>> RealStorageProvider::remove(std::string path) {
  if (IoResult<void> valid = validateStoragePath(path); !valid.ok()) co_return valid;
  const std::string full = absolute(path);
  if (::unlink(full.c_str()) != 0) co_return errnoError(errno, "unlink", path);
  IoResult<void> synced = syncDirectory(parentOf(full), observer_);
  pruneEmptyParents(path);
  co_return synced;
}

Task<IoResult<void>> RealStorageProvider::rename(std::string from, std::string to) {
  if (IoResult<void> valid = validateStoragePath(from); !valid.ok()) co_return valid;
  if (IoResult<void> valid = validateStoragePath(to); !valid.ok()) co_return valid;
  const std::string fullFrom = absolute(from);
  const std::string fullTo = absolute(to);
  struct stat info {};
  if (::stat(fullFrom.c_str(), &info) != 0) co_return errnoError(errno, "rename", from);
  if (!S_ISREG(info.st_mode)) co_return errnoError(EISDIR, "rename", from);
  if (from == to) co_return IoResult<void>();
  IoResult<void> made = makeDirectories(parentOf(fullTo), observer_);
  if (!made.ok()) co_return made;
  if (::rename(fullFrom.c_str(), fullTo.c_str()) != 0) {
    co_return errnoError(errno, "rename to '" + to + "'", from);
  }
  for (const std::string& changed : {parentOf(fullTo), parentOf(fullFrom)}) {
    if (IoResult<void> synced = syncDirectory(changed, observer_); !synced.ok()) co_return synced;
  }
  pruneEmptyParents(from);
  co_return IoResult<void>();
}

Task<IoResult<std::vector<std::string>>> RealStorageProvider::list() {
  std::vector<std::string> names;
  struct stat info {};
  if (::stat(root_.c_str(), &info) != 0 && errno == ENOENT) co_return names;  // nothing yet
  if (IoResult<void> listed = listInto(root_, "", 0, names); !listed.ok()) {
    co_return listed.error();
  }
  std::sort(names.begin(), names.end());
  co_return names;
}

Task<IoResult<bool>> RealStorageProvider::exists(std::string path) {
  if (IoResult<void> valid = validateStoragePath(path); !valid.ok()) co_return valid.error();
  struct stat info {};
  if (::stat(absolute(path).c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) co_return false;
    co_return errnoError(errno, "stat", path);
  }
  co_return S_ISREG(info.st_mode);
}

}  // namespace moonpool
