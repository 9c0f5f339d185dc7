// Whole-file I/O on POSIX descriptors: reading a file in one piece and
// replacing one atomically, so that a crash never leaves a half-written file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
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
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") error("the path names a directory");
  const std::string prefix = slash == std::string::npos ? "" : path.substr(0, slash + 1);

  static std::atomic<unsigned> counter{0};
  std::string temporary;
  FdCloser file;
  for (int attempt = 0; attempt < 100 && file.fd < 0; ++attempt) {
    temporary = prefix + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter.fetch_add(1));
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

}  // namespace bohmflow
