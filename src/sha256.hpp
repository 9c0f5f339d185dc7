// SHA-256 (FIPS 180-4) of a byte string, for the fingerprints that tie a
// checkpoint to the TorchScript potential it was trained with.
#pragma once

#include <string>

namespace bohmflow::detail {

// The digest as 64 lowercase hexadecimal characters.
std::string sha256_hex(const std::string& bytes);

}  // namespace bohmflow::detail
