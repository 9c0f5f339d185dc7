// Internal (not installed): the zip container around .npz members. libzip's
// types stay inside zip_archive.cpp so that only that file depends on libzip.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bohmflow::detail {

// Reads the member being visited: its uncompressed bytes, CRC-checked;
// `key` names the member in errors.
using ZipMemberReader = std::function<std::string(const std::string& key)>;

// Called with each member's name and a reader for its bytes.
using ZipMemberVisitor = std::function<void(const std::string& name, const ZipMemberReader& read)>;

// Reads the zip archive at `path` and calls visit(name, read) for each member,
// in archive order. Only members that visit reads are inflated, so skipped
// members cannot fail the load. An empty file is refused, as numpy.load
// refuses it. Errors throw std::runtime_error naming `path`.
void read_zip(const std::string& path, const ZipMemberVisitor& visit);

// Writes a zip archive of raw members (name → bytes) atomically to `path`,
// stored or deflated. Npz::save is encode_npy + this; tests use it to build
// archives with hand-made (corrupt) members.
void write_zip(const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& members, bool compress);

}  // namespace bohmflow::detail
