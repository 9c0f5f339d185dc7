// The zip container of an .npz, through libzip: reading members without
// trusting their size claims, and writing archives atomically.
#include "zip_archive.hpp"

#include <zip.h>

#include <algorithm>
#include <cstdint>

#include "npy_format.hpp"

namespace bohmflow::detail {
namespace {

// ---- libzip handles --------------------------------------------------------------

struct ZipArchive {
  zip_t* archive = nullptr;
  ~ZipArchive() {
    if (archive) zip_discard(archive);
  }
};

struct ZipFile {
  zip_file_t* file = nullptr;
  ~ZipFile() {
    if (file) zip_fclose(file);
  }
};

struct ZipSource {
  zip_source_t* source = nullptr;
  ~ZipSource() {
    if (source) zip_source_free(source);
  }
};

std::string zip_error_text(zip_error_t* error) {
  std::string text = zip_error_strerror(error);
  zip_error_fini(error);
  return text;
}

// One member's uncompressed bytes; never allocates more than the archive
// could hold and checks the CRC (libzip verifies it when EOF is reached).
std::string read_member(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat,
                        size_t archive_size, const std::string& file, const std::string& key) {
  if (!(stat.valid & ZIP_STAT_SIZE)) fail(file, key, "zip entry without an uncompressed size");
  // Deflate expands at most ~1032:1; stored members cannot exceed the archive.
  const uint64_t limit = (stat.valid & ZIP_STAT_COMP_METHOD) && stat.comp_method == ZIP_CM_STORE
                             ? archive_size
                             : static_cast<uint64_t>(archive_size) * 1032u + 4096u;
  if (stat.size > limit) {
    fail(file, key,
         "zip entry claims " + std::to_string(stat.size) + " bytes, more than an archive of " +
             std::to_string(archive_size) + " bytes can hold");
  }
  ZipFile member;
  member.file = zip_fopen_index(archive, index, 0);
  if (!member.file) fail(file, key, std::string("cannot open zip entry: ") + zip_strerror(archive));
  // Grow with the data actually inflated, so a size claim alone allocates
  // at most one chunk beyond what the member really holds.
  constexpr uint64_t kChunk = uint64_t{1} << 24;
  const uint64_t size = stat.size;
  std::string bytes;
  bytes.reserve(static_cast<size_t>(std::min(size, kChunk)));
  uint64_t done = 0;
  while (done < size) {
    const uint64_t want = std::min(size - done, kChunk);
    bytes.resize(static_cast<size_t>(done + want));
    const zip_int64_t got = zip_fread(member.file, &bytes[static_cast<size_t>(done)], want);
    if (got < 0) {
      fail(file, key, std::string("corrupt zip entry: ") + zip_file_strerror(member.file));
    }
    if (got == 0) {
      fail(file, key,
           "zip entry is truncated: " + std::to_string(done) + " of " + std::to_string(size) +
               " bytes");
    }
    done += static_cast<uint64_t>(got);
  }
  bytes.resize(static_cast<size_t>(done));
  char extra = 0;
  const zip_int64_t more = zip_fread(member.file, &extra, 1);
  if (more < 0) {
    fail(file, key, std::string("corrupt zip entry: ") + zip_file_strerror(member.file));
  }
  if (more > 0) fail(file, key, "zip entry is longer than its declared size");
  return bytes;
}

// An archive without members: the end-of-central-directory record alone.
const std::string kEmptyZip("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);

}  // namespace

// ---- reading -----------------------------------------------------------------------

void read_zip(const std::string& path, const ZipMemberVisitor& visit) {
  const std::string bytes = read_whole_file(path);
  // libzip would open an empty file as an empty archive; numpy.load refuses it.
  if (bytes.empty()) fail(path, "", "empty file, not a zip archive");
  if (bytes == kEmptyZip) return;  // what np.savez() with no arrays writes

  zip_error_t error;
  zip_error_init(&error);
  ZipSource source;
  source.source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source.source) fail(path, "", "cannot read: " + zip_error_text(&error));
  ZipArchive archive;
  archive.archive = zip_open_from_source(source.source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!archive.archive) fail(path, "", "not a readable zip archive: " + zip_error_text(&error));
  source.source = nullptr;  // owned by the archive now

  const zip_int64_t count = zip_get_num_entries(archive.archive, 0);
  if (count < 0) fail(path, "", "cannot list the zip archive");
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive.archive, index, 0, &stat) != 0 || !(stat.valid & ZIP_STAT_NAME)) {
      fail(path, "",
           "cannot read zip entry " + std::to_string(i) + ": " + zip_strerror(archive.archive));
    }
    const std::string name = stat.name;
    visit(name, [&](const std::string& key) {
      return read_member(archive.archive, index, stat, bytes.size(), path, key);
    });
  }
}

// ---- writing -----------------------------------------------------------------------

void write_zip(const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& members, bool compress) {
  if (members.empty()) {
    write_file_atomically(path, kEmptyZip);
    return;
  }
  zip_error_t error;
  zip_error_init(&error);
  ZipSource buffer;
  buffer.source = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer.source) fail(path, "", "cannot create a zip buffer: " + zip_error_text(&error));
  zip_t* archive = zip_open_from_source(buffer.source, ZIP_TRUNCATE, &error);
  if (!archive) fail(path, "", "cannot create a zip archive: " + zip_error_text(&error));
  ZipArchive guard;
  guard.archive = archive;
  zip_source_keep(buffer.source);  // outlives zip_close, which writes into it

  for (const auto& [name, bytes] : members) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    if (!source) fail(path, name, std::string("zip_source_buffer: ") + zip_strerror(archive));
    const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      fail(path, name, std::string("cannot add zip entry: ") + zip_strerror(archive));
    }
    if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                 compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0) {
      fail(path, name, std::string("cannot set compression: ") + zip_strerror(archive));
    }
  }
  if (zip_close(archive) != 0) {
    fail(path, "", std::string("cannot write the zip archive: ") + zip_strerror(archive));
  }
  guard.archive = nullptr;  // closed

  if (zip_source_open(buffer.source) != 0) {
    fail(path, "",
         std::string("cannot read the zip buffer: ") +
             zip_error_strerror(zip_source_error(buffer.source)));
  }
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const zip_int64_t got = zip_source_read(buffer.source, chunk, sizeof chunk);
    if (got < 0) {
      const std::string text = zip_error_strerror(zip_source_error(buffer.source));
      zip_source_close(buffer.source);
      fail(path, "", "cannot read the zip buffer: " + text);
    }
    if (got == 0) break;
    bytes.append(chunk, static_cast<size_t>(got));
  }
  zip_source_close(buffer.source);
  write_file_atomically(path, bytes);
}

}  // namespace bohmflow::detail
