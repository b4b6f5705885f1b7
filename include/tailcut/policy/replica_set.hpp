// ReplicaSet: which replica of one service an attempt goes to, and which
// replicas are left out for a while because they keep failing.
//
// - The first attempt of a call goes to the better of two replicas drawn at
//   random (power of two choices) by expected latency: a moving
//   geometric average of its recent latencies, times its attempts in flight
//   plus one (Finagle's P2C-EWMA, Envoy's least-request). A replica
//   expected to be several times slower than the best one
//   (first_attempt_slow_factor) is not drawn: attempts in flight elsewhere
//   must not make a slow replica look like the better choice, since a slow
//   first attempt is what hedging then pays for. A replica not measured
//   yet gets one first attempt at a time until its first answer.
// - Each later attempt of the call goes to the best replica the call has not
//   tried yet among those not several times slower than the best one; then
//   to the best of those, tried or not; a slow replica only when no other is
//   in. An extra attempt is fired to answer soon: a second request to a
//   fast replica answers sooner than the only one to a slow replica.
// - Passive outlier ejection: a replica that fails `failures_to_eject` times
//   in a row is left out for a backoff that doubles with each ejection
//   (from `base_ejection` up to `max_ejection`), then taken back: one more
//   failure ejects it again. Never more than half of the replicas are out at
//   once, so a lone upstream is never left out.
// - A replica nobody calls has its estimate decay toward zero (time
//   constant `decay`), so a replica that was slow gets a call again now and
//   then, and its share back once it is fast. An attempt stopped before
//   its replica's estimate (another won: a slow replica's lot when the
//   call hedges) leaves the estimate as it was and starts its decay over.
//
//   policy::ReplicaSet replicas{urls.size()};
//   auto first = replicas.pick_first(Clock::now());
//   replicas.on_attempt_start(first);
//   ...
//   replicas.on_attempt_end(first, ReplicaSet::Result::success, elapsed, Clock::now());
//
// Replicas are numbered 0..size-1; the caller keeps what they stand for.
// Not thread-safe: one per worker. Time comes in as arguments, so a test
// drives it with a fake clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tailcut::policy {

struct ReplicaSetOptions {
  std::size_t failures_to_eject = 5;
  std::chrono::milliseconds base_ejection{1000};
  std::chrono::milliseconds max_ejection{30000};
  // The weight of each answer in a replica's expected latency: a moving
  // average of the logarithms of its latencies (a geometric mean).
  double sample_weight = 0.1;
  // How fast the estimate of a replica nobody calls decays toward zero.
  std::chrono::milliseconds decay{10000};
  // What a failure counts as in the latency estimate when it came faster:
  // a replica that fails at once must not look like the fastest.
  std::chrono::milliseconds failure_penalty{1000};
  // A replica expected to be more than this many times slower than the
  // best one gets no first attempt, and extra attempts only when no
  // faster replica is in.
  double first_attempt_slow_factor = 3.0;
};

class ReplicaSet {
 public:
  using Clock = std::chrono::steady_clock;
  using Index = std::size_t;
  enum class Result {
    success,    // a good answer
    failure,    // connect error, 5xx, an answer that is not valid: counts toward ejection
    cancelled,  // stopped because another attempt won, or the call ended
  };

  // Throws std::invalid_argument when count is 0 or an option is out of
  // range. `seed` seeds the random draws (tests pass their own).
  explicit ReplicaSet(std::size_t count, ReplicaSetOptions options = {}, std::uint64_t seed = 1);

  [[nodiscard]] std::size_t size() const noexcept { return replicas_.size(); }

  [[nodiscard]] Index pick_first(Clock::time_point now);
  // The best replica not in `tried`, not left out and not slow (see the
  // top of this file); then the best one of those tried; a slow replica
  // only when no other is in.
  [[nodiscard]] Index pick_next(std::span<const Index> tried, Clock::time_point now);

  void on_attempt_start(Index replica) noexcept;
  // `elapsed`: how long the attempt ran. A cancelled attempt counts toward
  // the estimate only when it ran longer than the estimate (it was at least
  // that slow), else it starts the estimate's decay over; never toward
  // ejection.
  void on_attempt_end(Index replica, Result result, Clock::duration elapsed,
                      Clock::time_point now) noexcept;

  struct ReplicaState {
    Clock::duration expected_latency{};  // the EWMA, as of its last sample
    std::size_t in_flight = 0;
    std::size_t consecutive_failures = 0;
    bool ejected = false;
    std::uint64_t ejections = 0;  // since construction
  };
  [[nodiscard]] ReplicaState state(Index replica, Clock::time_point now) const noexcept;
  [[nodiscard]] std::size_t ejected_count(Clock::time_point now) const noexcept;

 private:
  struct Replica {
    double log_latency_ns = 0;  // the moving average of ln(latency in ns)
    bool has_sample = false;
    Clock::time_point last_sample{};
    std::size_t in_flight = 0;
    std::size_t consecutive_failures = 0;
    Clock::time_point ejected_until{};
    Clock::time_point last_ejection_end{};
    unsigned backoff_level = 0;  // the next ejection lasts base << level
    std::uint64_t ejections = 0;
  };

  [[nodiscard]] bool is_out(const Replica& replica, Clock::time_point now) const noexcept;
  [[nodiscard]] double expected_latency(const Replica& replica,
                                        Clock::time_point now) const noexcept;
  [[nodiscard]] double cost(const Replica& replica, Clock::time_point now) const noexcept;
  // Expected to be more than first_attempt_slow_factor times slower than
  // the best replica (`best_latency`, in ns).
  [[nodiscard]] bool is_slow(const Replica& replica, double best_latency,
                             Clock::time_point now) const noexcept;
  [[nodiscard]] bool may_go_first(const Replica& replica, double best_latency,
                                  Clock::time_point now) const noexcept;
  // The lowest expected latency of a measured replica that is in, in ns.
  [[nodiscard]] double best_latency(Clock::time_point now) const noexcept;
  void add_sample(Replica& replica, double latency_ns, Clock::time_point now) noexcept;
  void maybe_eject(Replica& replica, Clock::time_point now) noexcept;
  [[nodiscard]] std::uint64_t next_random() noexcept;

  ReplicaSetOptions options_;
  std::vector<Replica> replicas_;
  std::uint64_t random_state_;
};

}  // namespace tailcut::policy
