#include "fuzz_support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace bohmflow::fuzz {
namespace {

// ---- the scratch file ------------------------------------------------------------

// An in-memory file (memfd), reopened by the loaders through /proc: no disk
// I/O per input. Where memfd is missing, a file in $TMPDIR (or /tmp).
struct Scratch {
  int fd = -1;
  std::string path;

  Scratch() {
    fd = ::memfd_create("bohmflow-fuzz", MFD_CLOEXEC);
    if (fd >= 0) {
      path = "/proc/self/fd/" + std::to_string(fd);
      return;
    }
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/bohmflow-fuzz-" +
           std::to_string(::getpid()) + ".npz";
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::perror(path.c_str());
      std::abort();  // the harness cannot work without it: not a finding
    }
    std::atexit([] { ::unlink(scratch().path.c_str()); });
  }

  // Never destroyed, so that the atexit handler above still finds the path.
  static const Scratch& scratch() {
    static const Scratch* const instance = new Scratch;
    return *instance;
  }
};

// ---- zip in memory -----------------------------------------------------------------

struct Member {
  std::string name;
  std::string bytes;
  bool deflated = false;
};

// The members of an archive libzip accepts, or nothing. Members are read in
// full, so their sizes are capped to keep a claimed size from allocating.
std::optional<std::vector<Member>> unzip(const uint8_t* data, size_t size, size_t cap) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(data, size, 0, &error);
  zip_error_fini(&error);
  if (!source) return std::nullopt;
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, nullptr);
  if (!archive) {
    zip_source_free(source);
    return std::nullopt;
  }
  std::vector<Member> members;
  bool ok = true;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; ok && i < count; ++i) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    const auto index = static_cast<zip_uint64_t>(i);
    if (zip_stat_index(archive, index, 0, &stat) != 0 || !(stat.valid & ZIP_STAT_NAME) ||
        !(stat.valid & ZIP_STAT_SIZE) || stat.size > cap) {
      ok = false;
      break;
    }
    Member member;
    member.name = stat.name;
    member.deflated = (stat.valid & ZIP_STAT_COMP_METHOD) && stat.comp_method != ZIP_CM_STORE;
    member.bytes.resize(static_cast<size_t>(stat.size));
    zip_file_t* file = zip_fopen_index(archive, index, 0);
    ok = file && zip_fread(file, member.bytes.data(), stat.size) == static_cast<zip_int64_t>(stat.size);
    if (file) zip_fclose(file);
    members.push_back(std::move(member));
  }
  zip_discard(archive);  // also frees the source
  if (!ok || members.empty()) return std::nullopt;
  return members;
}

// The archive of `members`, or nothing if libzip refuses (e.g. a duplicate name).
std::optional<std::string> zip(const std::vector<Member>& members) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_error_fini(&error);
  if (!buffer) return std::nullopt;
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, nullptr);
  if (!archive) {
    zip_source_free(buffer);
    return std::nullopt;
  }
  zip_source_keep(buffer);  // zip_close writes into it; we read it afterwards
  bool ok = true;
  for (const Member& member : members) {
    zip_source_t* source = zip_source_buffer(archive, member.bytes.data(), member.bytes.size(), 0);
    const zip_int64_t index = source ? zip_file_add(archive, member.name.c_str(), source, 0) : -1;
    if (index < 0) {
      if (source) zip_source_free(source);
      ok = false;
      break;
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                             member.deflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
    // A fixed time stamp: the same mutation gives the same bytes.
    zip_file_set_dostime(archive, static_cast<zip_uint64_t>(index), 0, 0x21, 0);
  }
  if (!ok || zip_close(archive) != 0) {
    zip_discard(archive);
    zip_source_free(buffer);
    return std::nullopt;
  }
  std::optional<std::string> bytes;
  if (zip_source_open(buffer) == 0) {
    bytes.emplace();
    char chunk[1 << 14];
    zip_int64_t got = 0;
    while ((got = zip_source_read(buffer, chunk, sizeof chunk)) > 0) {
      bytes->append(chunk, static_cast<size_t>(got));
    }
    if (got < 0) bytes.reset();
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  return bytes;
}

// libFuzzer's mutations on a std::string, which may grow by up to `room` bytes.
void mutate_string(std::string* text, size_t room) {
  const size_t size = text->size();
  text->resize(size + room);
  auto* bytes = reinterpret_cast<uint8_t*>(text->data());
  text->resize(LLVMFuzzerMutate(bytes, size, size + room));
}

// Where the .npy header ends: magic, version, length, the dict (128 bytes
// cover every header numpy writes for these files).
constexpr size_t kHead = 128;

}  // namespace

const std::string& write_scratch_file(const uint8_t* data, size_t size) {
  const Scratch& scratch = Scratch::scratch();
  if (::ftruncate(scratch.fd, 0) != 0) std::abort();
  for (size_t done = 0; done < size;) {
    const ssize_t wrote = ::pwrite(scratch.fd, data + done, size - done, static_cast<off_t>(done));
    if (wrote <= 0) std::abort();
    done += static_cast<size_t>(wrote);
  }
  return scratch.path;
}

void report(const char* outcome) {
  static const bool verbose = std::getenv("BOHMFLOW_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s\n", outcome);
}

size_t mutate_zip_aware(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::minstd_rand random(seed);
  const auto roll = [&](unsigned n) { return static_cast<unsigned>(random() % n); };
  const auto bytewise = [&] { return LLVMFuzzerMutate(data, size, max_size); };
  if (roll(8) == 0) return bytewise();
  auto members = unzip(data, size, max_size);
  if (!members) return bytewise();

  Member& member = (*members)[roll(static_cast<unsigned>(members->size()))];
  switch (roll(10)) {
    case 0:  // the key
      mutate_string(&member.name, 16);
      break;
    case 1:  // a key missing
      if (members->size() > 1) {
        members->erase(members->begin() + (&member - members->data()));
      }
      break;
    case 2:  // the other compression method
      member.deflated = !member.deflated;
      break;
    case 3:
    case 4:
    case 5: {  // the header, where a mutation is most likely to matter
      std::string head = member.bytes.substr(0, kHead);
      mutate_string(&head, 32);
      member.bytes.replace(0, std::min(kHead, member.bytes.size()), head);
      break;
    }
    default:  // anywhere in the member, data included
      mutate_string(&member.bytes, std::max<size_t>(64, member.bytes.size() / 8));
      break;
  }
  const auto rebuilt = zip(*members);
  if (!rebuilt || rebuilt->size() > max_size) return bytewise();
  std::memcpy(data, rebuilt->data(), rebuilt->size());
  return rebuilt->size();
}

}  // namespace bohmflow::fuzz
