// sim/engine/time.hpp: simulated time as a strong int64 microsecond type.
//
// One type serves as both an instant (microseconds since the start of the run)
// and a duration; mixing it with raw integers needs an explicit conversion, so
// a millisecond can never silently become a microsecond.
// Must never: read a wall clock.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace smtplab {

struct SimTime {
  int64_t us = 0;

  constexpr SimTime() = default;
  constexpr explicit SimTime(int64_t microseconds) : us(microseconds) {}

  static constexpr SimTime zero() { return SimTime{0}; }
  static constexpr SimTime max() { return SimTime{std::numeric_limits<int64_t>::max()}; }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(SimTime o) const { return SimTime{us + o.us}; }
  constexpr SimTime operator-(SimTime o) const { return SimTime{us - o.us}; }
  constexpr SimTime& operator+=(SimTime o) { us += o.us; return *this; }
  constexpr SimTime& operator-=(SimTime o) { us -= o.us; return *this; }
  constexpr SimTime operator*(int64_t k) const { return SimTime{us * k}; }
  constexpr SimTime operator/(int64_t k) const { return SimTime{us / k}; }
  constexpr double seconds() const { return static_cast<double>(us) / 1e6; }
};

constexpr SimTime usec(int64_t v) { return SimTime{v}; }
constexpr SimTime msec(int64_t v) { return SimTime{v * 1000}; }
constexpr SimTime sec(int64_t v) { return SimTime{v * 1000000}; }
constexpr SimTime minutes(int64_t v) { return SimTime{v * 60000000}; }
constexpr SimTime hours(int64_t v) { return SimTime{v * 3600000000LL}; }
constexpr SimTime days(int64_t v) { return SimTime{v * 86400000000LL}; }
inline SimTime from_seconds(double s) { return SimTime{static_cast<int64_t>(s * 1e6 + (s >= 0 ? 0.5 : -0.5))}; }

// "12.345 ms", "2 h 30 min", "5 d", "0 s": a human reading of a duration.
// Small values keep sub-unit precision; large ones show the two largest units.
std::string format_duration(SimTime d);

// Fixed-width clock reading for transcripts: "   12.345678" seconds.
std::string format_clock(SimTime t);

// Parses "90s", "30min", "5d", "1h30min", "250ms", "10us", "1.5s", "0".
// Returns std::nullopt on anything else; `error` (if given) says why.
std::optional<SimTime> parse_duration(std::string_view text, std::string* error = nullptr);

}  // namespace smtplab
