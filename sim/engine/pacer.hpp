// sim/engine/pacer.hpp: optional real-time pacing of simulated time.
//
// Maps wall-clock time to simulated time with a speed factor (1x, 10x, 0.1x),
// so real sockets (sim/bridge) and GUI playback can follow the wall clock.
// The engine itself stays clock-free: callers ask the pacer which simulated
// instant "now" is and run the engine up to it. Changing the speed re-anchors
// the mapping, so simulated time never jumps.
// Must never: be consulted by anything that decides simulation outcomes.
#pragma once

#include <chrono>
#include <thread>

#include "sim/engine/engine.hpp"

namespace smtplab {

class RealTimePacer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RealTimePacer(double speed = 1.0, SimTime sim_origin = SimTime{0}, Clock::time_point wall_origin = Clock::now())
      : speed_(speed > 0 ? speed : 1.0), sim_origin_(sim_origin), wall_origin_(wall_origin) {}

  double speed() const { return speed_; }

  // The simulated instant that corresponds to a wall-clock instant.
  SimTime sim_at(Clock::time_point wall) const {
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(wall - wall_origin_).count();
    return sim_origin_ + SimTime{static_cast<int64_t>(static_cast<double>(elapsed) * speed_)};
  }
  SimTime sim_now() const { return sim_at(Clock::now()); }

  // The wall-clock instant at which a simulated instant is due.
  Clock::time_point wall_at(SimTime t) const {
    const double us = static_cast<double>((t - sim_origin_).us) / speed_;
    return wall_origin_ + std::chrono::microseconds(static_cast<int64_t>(us));
  }

  // Keeps the current simulated instant and continues at a new speed.
  void set_speed(double speed, Clock::time_point wall = Clock::now()) {
    sim_origin_ = sim_at(wall);
    wall_origin_ = wall;
    speed_ = speed > 0 ? speed : 1.0;
  }

  // Runs the engine in real time until simulated time `until` (or until the
  // engine is empty and `until` is reached). Sleeps between events.
  template <class E>
  void run_paced(E& engine, SimTime until) {
    for (;;) {
      const auto next = engine.next_time();
      const SimTime target = next && *next < until ? *next : until;
      std::this_thread::sleep_until(wall_at(target));
      engine.run_until(target);
      if (target >= until) return;
    }
  }

 private:
  double speed_;
  SimTime sim_origin_;
  Clock::time_point wall_origin_;
};

}  // namespace smtplab
