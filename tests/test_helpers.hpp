// tests/test_helpers.hpp: small helpers shared by the Catch2 tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace smtplab::testing {

// The source tree (scenarios/, tests/golden/ ...).
inline std::string source_dir() {
  if (const char* env = std::getenv("SMTPLAB_SOURCE_DIR")) return env;
  return SMTPLAB_SOURCE_DIR;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace smtplab::testing
