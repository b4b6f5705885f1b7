// HostHedging: each origin's hedge state for tailcut fetch (--hedge auto,
// --hedge-budget): its adaptive hedge delay and its hedge budget, made on
// the first URL to it. At most `capacity` origins are kept, the least
// recently used dropped first, so that an input naming a million distinct
// hosts takes constant memory; a dropped origin starts afresh (fallback
// delay, full budget) if it comes back. A request holds its origin's state
// until it ends, so dropping one in use is safe. Single-threaded, like fetch.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "tailcut/policy/hedge_budget.hpp"
#include "tailcut/policy/hedge_delay.hpp"

namespace tailcut::cli::fetch {

struct HostHedge {
  std::optional<policy::AdaptiveHedgeDelay> delay;  // with an adaptive delay
  std::optional<policy::HedgeBudget> budget;        // with a budget above 0
};

class HostHedging {
 public:
  // What each origin gets: an adaptive delay made with `adaptive` (when
  // set; validate() has checked it), a budget of `budget_percent` (when
  // above 0).
  HostHedging(std::optional<policy::AdaptiveDelayOptions> adaptive, double budget_percent,
              std::size_t capacity);

  // Whether origins get anything at all (else `of` is not needed).
  [[nodiscard]] bool enabled() const noexcept { return adaptive_ || budget_percent_ > 0; }

  // The state of `origin` (e.g. "http://a:80"), made when new.
  [[nodiscard]] std::shared_ptr<HostHedge> of(const std::string& origin);

  [[nodiscard]] std::size_t hosts() const noexcept { return index_.size(); }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<HostHedge>>;

  std::optional<policy::AdaptiveDelayOptions> adaptive_;
  double budget_percent_;
  std::size_t capacity_;
  std::list<Entry> recent_;  // most recently used first
  // Keys view the strings in `recent_`, whose nodes never move.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace tailcut::cli::fetch
