// HostHedging: a least-recently-used map of origins to their hedge state.
#include "cli/fetch/host_hedging.hpp"

#include <algorithm>

namespace tailcut::cli::fetch {

HostHedging::HostHedging(std::optional<policy::AdaptiveDelayOptions> adaptive,
                         double budget_percent, std::size_t capacity)
    : adaptive_{adaptive},
      budget_percent_{budget_percent},
      capacity_{std::max<std::size_t>(capacity, 1)} {}

std::shared_ptr<HostHedge> HostHedging::of(const std::string& origin) {
  if (const auto found = index_.find(origin); found != index_.end()) {
    recent_.splice(recent_.begin(), recent_, found->second);
    return found->second->second;
  }
  if (index_.size() >= capacity_) {
    index_.erase(recent_.back().first);
    recent_.pop_back();
  }
  auto state = std::make_shared<HostHedge>();
  if (adaptive_) state->delay.emplace(*adaptive_);
  if (budget_percent_ > 0) state->budget.emplace(budget_percent_);
  recent_.emplace_front(origin, state);
  index_.emplace(recent_.front().first, recent_.begin());
  return state;
}

}  // namespace tailcut::cli::fetch
