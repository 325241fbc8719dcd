// sim/trace/record.hpp: one typed trace record.
//
// Invariants: seq is 1-based and strictly increasing in a trace; cause is 0
// (none) or the seq of an earlier record; t never decreases along seq.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/trace/kinds.hpp"

namespace smtplab {

struct Attr {
  std::string key;
  std::string value;
};

struct Record {
  uint64_t seq = 0;       // assigned by Trace::emit
  SimTime t{0};           // simulated time
  Kind kind = Kind::note;
  std::string src;        // host that acts or sends ("" when not applicable)
  std::string dst;        // host that receives ("" when not applicable)
  uint64_t session = 0;   // connection or session id (0: none)
  uint64_t cause = 0;     // seq of the record that led to this one (0: none)
  std::string text;       // one human-readable line, e.g. "EHLO gmail.test"
  std::string wire;       // raw bytes on the wire where they apply, CR LF included
  std::vector<Attr> attrs;

  Layer layer() const { return layer_of(kind); }

  // Returns the value of an attribute, or "" when absent.
  std::string_view attr(std::string_view key) const {
    for (const Attr& a : attrs)
      if (a.key == key) return a.value;
    return {};
  }
  bool has_attr(std::string_view key) const {
    for (const Attr& a : attrs)
      if (a.key == key) return true;
    return false;
  }
  Record& with(std::string key, std::string value) {
    attrs.push_back(Attr{std::move(key), std::move(value)});
    return *this;
  }
};

}  // namespace smtplab
