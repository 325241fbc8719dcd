// sim/engine/rng.cpp: xoshiro256** with splitmix64 seeding, FNV-1a stream names.
#include "sim/engine/rng.hpp"

#include <cmath>

namespace smtplab {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t Rng::derive(uint64_t seed, std::string_view stream_name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the name
  for (unsigned char c : stream_name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  uint64_t mix = seed ^ 0x5bd1e9955bd1e995ULL;
  uint64_t a = splitmix64(mix);
  uint64_t b = h;
  return splitmix64(a) ^ splitmix64(b);
}

Rng::Rng(uint64_t seed, std::string_view stream_name) : Rng(derive(seed, stream_name)) {}

Rng::Rng(uint64_t raw_seed) {
  uint64_t x = raw_seed;
  for (uint64_t& s : s_) s = splitmix64(x);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Rng::uniform_int(uint64_t lo, uint64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t range = hi - lo;
  if (range == UINT64_MAX) return next_u64();
  const uint64_t n = range + 1;
  // Lemire: multiply-shift with rejection of the biased low zone.
  __uint128_t m = static_cast<__uint128_t>(next_u64()) * n;
  uint64_t l = static_cast<uint64_t>(m);
  if (l < n) {
    const uint64_t t = (0 - n) % n;
    while (l < t) {
      m = static_cast<__uint128_t>(next_u64()) * n;
      l = static_cast<uint64_t>(m);
    }
  }
  return lo + static_cast<uint64_t>(m >> 64);
}

bool Rng::bernoulli(double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return uniform() < p;
}

double Rng::exponential(double mean) {
  double u = uniform();
  if (u <= 0.0) u = 0x1.0p-53;
  return -std::log(u) * mean;
}

}  // namespace smtplab
