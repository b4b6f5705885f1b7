// ReplicaSet: P2C on expected latency, passive ejection (replica_set.hpp).
#include "tailcut/policy/replica_set.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace tailcut::policy {

namespace {

using Nanoseconds = std::chrono::duration<double, std::nano>;

// The floor of a cost's latency factor: with no sample yet, attempts in
// flight still tell replicas apart.
constexpr double min_latency_ns = 1000.0;
constexpr unsigned max_backoff_level = 20;

void check(std::size_t count, const ReplicaSetOptions& options) {
  if (count == 0) throw std::invalid_argument{"replica set: it needs at least one replica"};
  if (options.failures_to_eject == 0) {
    throw std::invalid_argument{"replica set: failures_to_eject must be at least 1"};
  }
  if (options.base_ejection <= std::chrono::milliseconds::zero() ||
      options.max_ejection < options.base_ejection) {
    throw std::invalid_argument{
        "replica set: the base ejection must be positive and at most the maximum ejection"};
  }
  if (options.decay <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument{"replica set: the decay time constant must be positive"};
  }
  if (!(options.sample_weight > 0.0 && options.sample_weight <= 1.0)) {
    throw std::invalid_argument{"replica set: sample_weight must be above 0 and at most 1"};
  }
  if (!(options.first_attempt_slow_factor >= 1.0)) {
    throw std::invalid_argument{"replica set: first_attempt_slow_factor must be at least 1"};
  }
}

}  // namespace

ReplicaSet::ReplicaSet(std::size_t count, ReplicaSetOptions options, std::uint64_t seed)
    : options_{(check(count, options), options)},
      replicas_(count),
      random_state_{seed == 0 ? 0x9E3779B97F4A7C15ULL : seed} {}

// xorshift64*: enough for picking replicas, and deterministic per seed.
std::uint64_t ReplicaSet::next_random() noexcept {
  random_state_ ^= random_state_ >> 12;
  random_state_ ^= random_state_ << 25;
  random_state_ ^= random_state_ >> 27;
  return random_state_ * 0x2545F4914F6CDD1DULL;
}

bool ReplicaSet::is_out(const Replica& replica, Clock::time_point now) const noexcept {
  return now < replica.ejected_until;
}

std::size_t ReplicaSet::ejected_count(Clock::time_point now) const noexcept {
  return static_cast<std::size_t>(std::count_if(replicas_.begin(), replicas_.end(),
                                                [&](const Replica& r) { return is_out(r, now); }));
}

double ReplicaSet::expected_latency(const Replica& replica, Clock::time_point now) const noexcept {
  if (!replica.has_sample) return min_latency_ns;  // a replica never measured is tried first
  // Decays toward zero while nobody calls it (Finagle's peak EWMA does the
  // same): a replica that was slow is tried again after a while.
  const double idle = Nanoseconds{now - replica.last_sample}.count();
  const double decay = Nanoseconds{options_.decay}.count();
  return std::max(std::exp(replica.log_latency_ns - std::max(idle, 0.0) / decay), min_latency_ns);
}

double ReplicaSet::cost(const Replica& replica, Clock::time_point now) const noexcept {
  return expected_latency(replica, now) * static_cast<double>(replica.in_flight + 1);
}

bool ReplicaSet::is_slow(const Replica& replica, double best_latency,
                         Clock::time_point now) const noexcept {
  // Below a millisecond, differences are noise to a hedge.
  constexpr double noise_ns = 1e6;
  return replica.has_sample &&
         expected_latency(replica, now) >
             options_.first_attempt_slow_factor * std::max(best_latency, noise_ns);
}

bool ReplicaSet::may_go_first(const Replica& replica, double best_latency,
                              Clock::time_point now) const noexcept {
  if (is_out(replica, now)) return false;
  // Not measured yet: one first attempt at a time until its first answer,
  // so that a slow replica is not handed a burst of calls at start.
  if (!replica.has_sample) return replica.in_flight == 0;
  return !is_slow(replica, best_latency, now);
}

double ReplicaSet::best_latency(Clock::time_point now) const noexcept {
  double best = std::numeric_limits<double>::infinity();
  for (const Replica& replica : replicas_) {
    if (replica.has_sample && !is_out(replica, now)) {
      best = std::min(best, expected_latency(replica, now));
    }
  }
  return best;
}

ReplicaSet::Index ReplicaSet::pick_first(Clock::time_point now) {
  const std::size_t count = replicas_.size();
  if (count == 1) return 0;
  const double best = best_latency(now);
  // Two distinct replicas that may go first, drawn at random: a bounded
  // number of draws, then a scan for the rare unlucky case.
  auto draw = [&](std::optional<Index> skip) -> std::optional<Index> {
    for (int tries = 0; tries < 16; ++tries) {
      const Index index = next_random() % count;
      if (index != skip && may_go_first(replicas_[index], best, now)) return index;
    }
    for (Index index = 0; index < count; ++index) {
      if (index != skip && may_go_first(replicas_[index], best, now)) return index;
    }
    return std::nullopt;
  };
  const auto first = draw(std::nullopt);
  // None may (every replica measured so far is out, the others busy with
  // their first attempt): the cheapest that is in.
  if (!first) return pick_next({}, now);
  const auto second = draw(first);
  if (!second) return *first;
  return cost(replicas_[*second], now) < cost(replicas_[*first], now) ? *second : *first;
}

ReplicaSet::Index ReplicaSet::pick_next(std::span<const Index> tried, Clock::time_point now) {
  const double best = best_latency(now);
  auto cheapest = [&](bool skip_tried, bool skip_slow) -> std::optional<Index> {
    std::optional<Index> chosen;
    double chosen_cost = std::numeric_limits<double>::infinity();
    for (Index index = 0; index < replicas_.size(); ++index) {
      const Replica& replica = replicas_[index];
      if (is_out(replica, now) || (skip_slow && is_slow(replica, best, now))) continue;
      if (skip_tried && std::find(tried.begin(), tried.end(), index) != tried.end()) continue;
      const double candidate = cost(replica, now);
      if (candidate < chosen_cost) {
        chosen = index;
        chosen_cost = candidate;
      }
    }
    return chosen;
  };
  // A replica not tried yet, then one tried already, among those not much
  // slower than the best: an extra attempt must answer soon to be worth
  // firing, and a fast replica tried already answers a new attempt as
  // fast as it answers any. Slow replicas last.
  if (auto untried = cheapest(true, true)) return *untried;
  if (auto fast = cheapest(false, true)) return *fast;
  if (auto untried = cheapest(true, false)) return *untried;
  if (auto any = cheapest(false, false)) return *any;
  return 0;  // unreachable: at most half are out
}

void ReplicaSet::on_attempt_start(Index replica) noexcept { ++replicas_[replica].in_flight; }

void ReplicaSet::add_sample(Replica& replica, double latency_ns, Clock::time_point now) noexcept {
  const double log_latency = std::log(std::max(latency_ns, min_latency_ns));
  // In the log domain (a geometric mean): a heavy tail's rare slow answer
  // moves the estimate by a factor, not by its whole size, so a healthy
  // replica with a few slow answers stays far from a slow one.
  // An estimate nobody refreshed for a while is stale: the newer the
  // answer is against it, the more that answer weighs.
  const double since = std::max(Nanoseconds{now - replica.last_sample}.count(), 0.0);
  const double weight = std::max(options_.sample_weight,
                                 1.0 - std::exp(-since / Nanoseconds{options_.decay}.count()));
  replica.log_latency_ns =
      replica.has_sample ? replica.log_latency_ns + weight * (log_latency - replica.log_latency_ns)
                         : log_latency;
  replica.has_sample = true;
  replica.last_sample = now;
}

void ReplicaSet::maybe_eject(Replica& replica, Clock::time_point now) noexcept {
  if (replica.consecutive_failures < options_.failures_to_eject || is_out(replica, now)) return;
  if (2 * (ejected_count(now) + 1) > replicas_.size()) return;  // never more than half out
  // Healthy for as long as the longest ejection: start the backoff over.
  if (replica.ejections > 0 && now - replica.last_ejection_end >= options_.max_ejection) {
    replica.backoff_level = 0;
  }
  const auto ejection = std::min<Clock::duration>(
      options_.base_ejection * (std::int64_t{1} << replica.backoff_level), options_.max_ejection);
  replica.ejected_until = now + ejection;
  replica.last_ejection_end = replica.ejected_until;
  replica.backoff_level = std::min(replica.backoff_level + 1, max_backoff_level);
  ++replica.ejections;
  // Back in after the ejection, one more failure takes it out again.
  replica.consecutive_failures = options_.failures_to_eject - 1;
}

void ReplicaSet::on_attempt_end(Index index, Result result, Clock::duration elapsed,
                                Clock::time_point now) noexcept {
  Replica& replica = replicas_[index];
  if (replica.in_flight > 0) --replica.in_flight;
  const double elapsed_ns = Nanoseconds{elapsed}.count();
  switch (result) {
    case Result::success:
      replica.consecutive_failures = 0;
      add_sample(replica, elapsed_ns, now);
      break;
    case Result::failure:
      ++replica.consecutive_failures;
      add_sample(replica, std::max(elapsed_ns, Nanoseconds{options_.failure_penalty}.count()), now);
      maybe_eject(replica, now);
      break;
    case Result::cancelled:
      if (!replica.has_sample) break;
      if (elapsed_ns > std::exp(replica.log_latency_ns)) {
        add_sample(replica, elapsed_ns, now);
      } else {
        // Stopped before the estimate: it does not contradict it. The
        // estimate stands and its decay starts over, or a slow replica
        // whose attempts are all hedged and stopped would look faster and
        // faster (and get more and more first attempts, each hedged).
        replica.last_sample = now;
      }
      break;
  }
}

ReplicaSet::ReplicaState ReplicaSet::state(Index index, Clock::time_point now) const noexcept {
  const Replica& replica = replicas_[index];
  return ReplicaState{
      .expected_latency = std::chrono::duration_cast<Clock::duration>(
          Nanoseconds{replica.has_sample ? std::exp(replica.log_latency_ns) : 0.0}),
      .in_flight = replica.in_flight,
      .consecutive_failures = replica.consecutive_failures,
      .ejected = is_out(replica, now),
      .ejections = replica.ejections,
  };
}

}  // namespace tailcut::policy
