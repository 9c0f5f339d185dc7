// Whole-file I/O on POSIX descriptors: reading a file in one piece and
// replacing one atomically, so that a crash never leaves a half-written file.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "bohmflow/npz.hpp"
#include "npy_format.hpp"

namespace bohmflow {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Where write_file_atomically puts the temporaries of `path`.
struct TemporaryNames {
  std::string dir, base, prefix;
  explicit TemporaryNames(const std::string& path) {
    const size_t slash = path.rfind('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    base = slash == std::string::npos ? path : path.substr(slash + 1);
    prefix = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  }
  std::string stem() const { return "." + base + ".tmp-"; }
};

// Removes ".<base>.tmp-<pid>-<n>" files in `names.dir` whose process is gone
// (a run killed while writing): they are never renamed and would pile up.
void remove_stale_temporaries(const TemporaryNames& names) {
  DIR* folder = ::opendir(names.dir.c_str());
  if (folder == nullptr) return;
  const std::string stem = names.stem();
  while (const dirent* entry = ::readdir(folder)) {
    const std::string name = entry->d_name;
    if (name.compare(0, stem.size(), stem) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + stem.size(), &end, 10);
    if (pid <= 0 || end == nullptr || *end != '-') continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink((names.prefix + name).c_str());
  }
  ::closedir(folder);
}

}  // namespace

// ---- reading -----------------------------------------------------------------------

std::string detail::read_whole_file(const std::string& path) {
  FdCloser file;
  do {
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (file.fd < 0 && errno == EINTR);
  if (file.fd < 0) fail(path, "", "cannot open: " + errno_text(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail(path, "", "cannot stat: " + errno_text(errno));
  if (!S_ISREG(info.st_mode)) fail(path, "", "not a regular file");
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(file.fd, &bytes[done], bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, "", "read error: " + errno_text(errno));
    if (got == 0) fail(path, "", "file shrank while being read");
    done += static_cast<size_t>(got);
  }
  return bytes;
}

// ---- atomic write -------------------------------------------------------------------

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const auto error = [&](const std::string& what) {
    throw std::runtime_error("cannot write '" + path + "': " + what);
  };
  const TemporaryNames names(path);
  const std::string& dir = names.dir;
  if (names.base.empty() || names.base == "." || names.base == "..") error("the path names a directory");
  remove_stale_temporaries(names);

  static std::atomic<unsigned> counter{0};
  std::string temporary;
  FdCloser file;
  for (int attempt = 0; attempt < 100 && file.fd < 0; ++attempt) {
    temporary = names.prefix + names.stem() + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    do {
      file.fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    } while (file.fd < 0 && errno == EINTR);
    if (file.fd < 0 && errno != EEXIST) {
      error("cannot create a temporary file in '" + dir + "': " + errno_text(errno));
    }
  }
  if (file.fd < 0) error("cannot find a free temporary file name in '" + dir + "'");

  const auto abandon = [&](const std::string& what) {
    const int saved = errno;
    if (file.fd >= 0) ::close(file.fd);
    file.fd = -1;
    ::unlink(temporary.c_str());
    error(what + ": " + errno_text(saved));
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t wrote = ::write(file.fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) abandon("write to '" + temporary + "' failed");
    done += static_cast<size_t>(wrote);
  }
  if (::fsync(file.fd) != 0) abandon("fsync of '" + temporary + "' failed");
  const int fd = file.fd;
  file.fd = -1;
  if (::close(fd) != 0) abandon("close of '" + temporary + "' failed");
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    abandon("rename of '" + temporary + "' failed");
  }
  // Make the rename itself durable; a failure here leaves a complete file.
  FdCloser folder;
  folder.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder.fd >= 0) ::fsync(folder.fd);
}

void require_writable(const std::string& path, const std::string& what) {
  const auto refuse = [&](const std::string& why) {
    throw std::runtime_error(what + " '" + path + "': cannot be written (" + why + "); nothing was run");
  };
  const TemporaryNames names(path);
  if (names.base.empty() || names.base == "." || names.base == "..") refuse("the path names a directory");
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) refuse("it is a directory");
  std::error_code ignored;
  if (names.dir != ".") std::filesystem::create_directories(names.dir, ignored);
  remove_stale_temporaries(names);
  const std::string probe = names.prefix + names.stem() + std::to_string(::getpid()) + "-probe";
  FdCloser file;
  do {
    file.fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  } while (file.fd < 0 && errno == EINTR);
  if (file.fd < 0) refuse("no file can be created in '" + names.dir + "': " + errno_text(errno));
  ::unlink(probe.c_str());
}

}  // namespace bohmflow
