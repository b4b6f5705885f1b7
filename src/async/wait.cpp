// wait_until: the condition loop behind async::wait.
#include "tailcut/async/wait.hpp"

#include <algorithm>

namespace tailcut::async::detail {

namespace asio = boost::asio;

namespace {

bool condition_holds(const std::vector<TaskStateBase*>& tasks, ReturnWhen return_when) {
  const auto is_done = [](const TaskStateBase* task) { return task->done(); };
  switch (return_when) {
    case ReturnWhen::first_completed:
      return tasks.empty() || std::any_of(tasks.begin(), tasks.end(), is_done);
    case ReturnWhen::first_exception:
      return std::any_of(tasks.begin(), tasks.end(),
                         [](const TaskStateBase* task) { return task->failed(); }) ||
             std::all_of(tasks.begin(), tasks.end(), is_done);
    case ReturnWhen::all_completed:
      return std::all_of(tasks.begin(), tasks.end(), is_done);
  }
  return true;
}

}  // namespace

asio::awaitable<void> wait_until(std::vector<TaskStateBase*> tasks, ReturnWhen return_when,
                                 std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (condition_holds(tasks, return_when)) co_return;
  CompletionWatch watch{co_await asio::this_coro::executor};
  for (TaskStateBase* task : tasks) watch.watch(*task);
  if (deadline) watch.set_deadline(*deadline);
  while (!condition_holds(tasks, return_when)) {
    if (co_await watch.wait() == Wake::deadline) co_return;
  }
}

}  // namespace tailcut::async::detail
