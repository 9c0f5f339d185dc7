// Flag helpers without LibTorch: a parsed value, an enum's words and lower
// bounds, each error naming the flag. (A header beside the apps: each
// apps/*.cpp is one executable.)
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

#include "bohmflow/option_words.hpp"

namespace bohmflow::apps {

// `flag` VALUE parsed by `parse` into `target`; a value it rejects is an
// error naming the flag. The default shown is `shown`, the struct's own.
template <class T, class Parse>
void add_parsed_option(CLI::App& app, const std::string& flag, T& target, const Parse& parse,
                       const std::string& help, const std::string& shown) {
  app.add_option_function<std::string>(
         flag,
         [&target, parse, flag](const std::string& name) {
           try {
             target = parse(name);
           } catch (const std::invalid_argument& error) {
             throw CLI::ValidationError(flag, error.what());
           }
         },
         help)
      ->default_str(shown);
}

// `flag` WORD onto an enum option (option_words.hpp): the words in the help,
// an unknown one an error naming the flag, the struct's default shown.
template <class Enum>
void add_word_option(CLI::App& app, const std::string& flag, Enum& target, const std::string& help) {
  std::string words;
  for (const auto& entry : OptionWords<Enum>::words) words += (words.empty() ? "" : " | ") + std::string(entry.second);
  add_parsed_option(app, flag, target, parse_option<Enum>, help + ": " + words, to_string(target));
}

// A check that a number is at least `low` (or, not `inclusive`, above it),
// whose message names the bound only (CLI11's Range and PositiveNumber print
// the upper bound's 300 digits).
inline CLI::Validator lower_bound(double low, bool inclusive) {
  const std::string relation = inclusive ? ">=" : ">";
  return CLI::Validator(
      [low, inclusive, relation](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a number";
        if (!(inclusive ? value >= low : value > low)) {
          return "must be " + relation + " " + CLI::detail::to_string(low) + ", got " + text;
        }
        return {};
      },
      relation + CLI::detail::to_string(low));
}
inline CLI::Validator at_least(double low) { return lower_bound(low, true); }
inline CLI::Validator above(double low) { return lower_bound(low, false); }
// A check that a number is finite (CLI11 reads "nan" and "inf" as numbers).
inline CLI::Validator finite() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a number";
        return std::isfinite(value) ? std::string() : "must be finite, got " + text;
      },
      "finite");
}

}  // namespace bohmflow::apps
