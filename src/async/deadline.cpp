// DeadlineScope: the supervision loop shared by every run() and wait_for.
#include "tailcut/async/deadline.hpp"

#include <algorithm>

namespace tailcut::async {

namespace asio = boost::asio;

DeadlineScope::Clock::duration DeadlineScope::remaining() const noexcept {
  return std::max(deadline_ - Clock::now(), Clock::duration::zero());
}

void DeadlineScope::reschedule(Clock::time_point deadline) {
  deadline_ = deadline;
  for (detail::CompletionWatch* watch : active_runs_) watch->set_deadline(deadline);
}

asio::awaitable<void> DeadlineScope::supervise(detail::TaskStateBase& task) {
  detail::CompletionWatch watch{co_await asio::this_coro::executor};
  watch.watch(task);
  watch.set_deadline(deadline_);
  active_runs_.push_back(&watch);

  bool expired = false;
  bool caller_cancelled = false;
  try {
    while (!task.done()) {
      if (co_await watch.wait() == detail::Wake::deadline) {
        expired = true;
        break;
      }
    }
  } catch (...) {
    caller_cancelled = true;
  }
  std::erase(active_runs_, &watch);
  if (expired || caller_cancelled) {
    std::vector<detail::TaskStateBase*> tasks{&task};
    TAILCUT_AWAIT_JOIN(detail::cancel_and_join(std::move(tasks)));
  }
  if (caller_cancelled) throw_cancelled();
  if (expired) throw_timeout();
}

}  // namespace tailcut::async
