// How every driver starts and ends: CLI11 parses the flags (a bad one is its
// message and exit code), then the work runs, and whatever it throws becomes
// one line "<program>: <message>" and exit status 1, so no bad input ends in
// an uncaught exception or a stack trace. (A header beside the apps: each
// apps/*.cpp is one executable; this one needs no LibTorch.)
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <string>
#include <type_traits>

namespace bohmflow::apps {

// `error`'s message without the backtrace LibTorch's c10::Error appends
// ("Exception raised from … (most recent call first): frame #0 …").
inline std::string message_without_backtrace(const std::exception& error) {
  std::string message = error.what();
  for (const char* marker : {"\nException raised from ", "Exception raised from "}) {
    const auto at = message.find(marker);
    if (at != std::string::npos) message.erase(at);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// Parses `app` from argc/argv, then runs `work` (returning void, or an exit
// status). Every error ends here, printed once on stderr.
template <class Work>
int run_app(CLI::App& app, int argc, char** argv, Work&& work) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  try {
    if constexpr (std::is_void_v<decltype(work())>) {
      work();
      return 0;
    } else {
      return work();
    }
  } catch (const std::bad_alloc&) {
    std::cerr << program << ": out of memory; fewer particles (--M, --M-test) or a smaller --chunk need less\n";
  } catch (const std::exception& error) {
    std::cerr << program << ": " << message_without_backtrace(error) << "\n";
  } catch (...) {
    std::cerr << program << ": stopped by an unknown exception\n";
  }
  return 1;
}

}  // namespace bohmflow::apps
