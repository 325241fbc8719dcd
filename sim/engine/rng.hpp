// sim/engine/rng.hpp: named random streams derived from (seed, stream name).
//
// Every random draw in the simulator comes from a stream made here. A stream
// depends only on the scenario seed and its own name, so adding a new stream
// (say "tcp.isn.mx2") never shifts the numbers another stream produces: runs
// stay comparable as the model grows. xoshiro256** seeded through splitmix64.
// Must never: use std::random_device, time, or a global generator.
#pragma once

#include <cstdint>
#include <string_view>

namespace smtplab {

class Rng {
 public:
  Rng(uint64_t seed, std::string_view stream_name);
  explicit Rng(uint64_t raw_seed);

  uint64_t next_u64();
  // Uniform in [0, 1).
  double uniform();
  // Uniform integer in [lo, hi] (inclusive); unbiased (Lemire's method).
  uint64_t uniform_int(uint64_t lo, uint64_t hi);
  // True with probability p (p <= 0: never, p >= 1: always, no draw wasted either way).
  bool bernoulli(double p);
  // Exponentially distributed with the given mean.
  double exponential(double mean);

  // A child stream: the same as Rng(seed, parent_name + "/" + child) would be.
  static uint64_t derive(uint64_t seed, std::string_view stream_name);

 private:
  uint64_t s_[4];
};

}  // namespace smtplab
