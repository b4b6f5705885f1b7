// The simulated unreliable upstream behind `tailcut upstream` (and the
// gateway's embedded upstream): GET /api/work answers {"time": N} after a
// sampled delay, with faults mixed in by probability, or from a script.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tailcut/http/router.hpp"

namespace tailcut::upstream {

enum class DelayModel {
  uniform,     // uniform in [min_delay, max_delay]
  heavy_tail,  // mostly uniform in [min_delay, max_delay], a few in [tail_min, tail_max]
};

// One scripted answer; the script is played in order, then from the start.
struct ScriptedAnswer {
  std::chrono::milliseconds delay{0};
  unsigned status = 200;
  std::optional<std::string> body;  // default: {"time": <delay>}
  bool hang = false;                // never answer (until hang_duration)
};

struct SimulatorOptions {
  std::chrono::milliseconds min_delay{100};
  std::chrono::milliseconds max_delay{600};
  double error_rate = 0.10;         // HTTP 500
  double invalid_json_rate = 0.10;  // HTTP 200 with a body that is not JSON
  double hang_rate = 0.10;          // no answer for hang_duration, then close
  std::chrono::milliseconds hang_duration{std::chrono::seconds{30}};
  DelayModel delay_model = DelayModel::uniform;
  double tail_rate = 0.02;
  std::chrono::milliseconds tail_min{std::chrono::seconds{1}};
  std::chrono::milliseconds tail_max{std::chrono::seconds{3}};
  std::optional<std::uint64_t> seed;   // unset: a random seed
  std::vector<ScriptedAnswer> script;  // non-empty: scripted mode
};

// Throws std::invalid_argument naming the `tailcut upstream` flag of the
// first option out of range.
void validate(const SimulatorOptions& options);

// Parses a script: a JSON array of {"delay_ms": N, "status": S, "body": "...",
// "hang": bool}. Throws std::invalid_argument saying what is wrong and where:
// the line and column of a JSON syntax error, the index of a bad entry
// ("script[2]: ..."), and an unknown key by name.
std::vector<ScriptedAnswer> parse_script(std::string_view json_text);

struct SimulatorCounters {
  std::uint64_t received = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t answered = 0;
  std::uint64_t aborted = 0;  // the client went away (or cancelled) first
};

// Thread-safe: one simulator serves every worker.
class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);

  // The next answer to give (counts it as received).
  ScriptedAnswer plan_next();

  void on_started() noexcept { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void on_answered() noexcept;
  void on_aborted() noexcept;

  [[nodiscard]] SimulatorCounters counters() const noexcept;
  [[nodiscard]] const SimulatorOptions& options() const noexcept { return options_; }

 private:
  SimulatorOptions options_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
  std::size_t script_position_ = 0;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> answered_{0};
  std::atomic<std::uint64_t> aborted_{0};
};

// GET /api/work, GET /stats (the counters as JSON) and GET /healthz.
void add_routes(http::Router& router, std::shared_ptr<Simulator> simulator);

}  // namespace tailcut::upstream
