// Enum-valued options and the words that spell them on the command line and
// in checkpoints' JSON. Each enum has one table, OptionWords<Enum> (next to
// the enum), that both directions read.
#pragma once

#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

namespace bohmflow {

// Specialised for each option enum:
//   static constexpr const char* option = "conditioning";        // named in errors
//   static constexpr std::pair<Enum, const char*> words[] = {…};  // value ↔ word
template <typename Enum>
struct OptionWords;

template <typename Enum>
std::string to_string(Enum value) {
  for (const auto& [v, word] : OptionWords<Enum>::words) {
    if (v == value) return word;
  }
  throw std::logic_error(std::string(OptionWords<Enum>::option) + ": a value without a word");
}

// std::invalid_argument "conditioning 'x': must be film or concat".
template <typename Enum>
Enum parse_option(const std::string& text) {
  std::string known;
  const auto& words = OptionWords<Enum>::words;
  const size_t n = std::size(words);
  for (size_t i = 0; i < n; ++i) {
    if (text == words[i].second) return words[i].first;
    known += (i == 0 ? "" : i + 1 == n ? " or " : ", ") + std::string(words[i].second);
  }
  throw std::invalid_argument(std::string(OptionWords<Enum>::option) + " '" + text + "': must be " + known);
}

}  // namespace bohmflow
