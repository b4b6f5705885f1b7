// hedge: the steps of a HedgeRun that do not depend on the attempts' type.
#include "tailcut/policy/hedge.hpp"

#include <algorithm>

namespace tailcut::policy::detail {

std::optional<std::chrono::milliseconds> HedgeTimes::remaining(
    HedgeClock::time_point now) const noexcept {
  if (!deadline_) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(*deadline_ - now, HedgeClock::duration::zero()));
}

HedgeClock::time_point HedgeTimes::next_wake(bool extras_fired) const noexcept {
  auto wake_at = deadline_.value_or(HedgeClock::time_point::max());
  if (!extras_fired) wake_at = std::min(wake_at, hedge_at_);
  return wake_at;
}

AttemptRecord record_of(std::size_t number, const async::detail::TaskStateBase& task, bool won,
                        bool told_to_stop, HedgeClock::time_point began,
                        HedgeClock::time_point started, HedgeClock::time_point finished) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  AttemptRecord record{number, AttemptState::succeeded,
                       duration_cast<milliseconds>(started - began),
                       duration_cast<milliseconds>(finished - started)};
  if (won) return record;
  // Only an attempt hedge told to stop counts as cancelled; an attempt
  // that ended with a cancellation of its own failed.
  const bool cancelled = !task.failed() || (told_to_stop && task.cancelled());
  record.state = cancelled ? AttemptState::cancelled : AttemptState::failed;
  return record;
}

}  // namespace tailcut::policy::detail
