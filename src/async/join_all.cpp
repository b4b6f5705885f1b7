// join_all: the waiting loop behind gather and TaskGroup.
#include <algorithm>

#include "tailcut/async/gather.hpp"

namespace tailcut::async::detail {

namespace asio = boost::asio;

asio::awaitable<std::exception_ptr> join_all(std::vector<TaskStateBase*> tasks,
                                             OnFailure on_failure) {
  CompletionWatch watch{co_await asio::this_coro::executor};
  for (TaskStateBase* task : tasks) watch.watch(*task);

  std::exception_ptr first_error;
  std::vector<TaskStateBase*> unfinished = tasks;
  bool caller_cancelled = false;
  try {
    while (!unfinished.empty()) {
      // Completion order, not input order, decides which error is first.
      for (TaskStateBase* task : unfinished) {
        if (task->failed() && !first_error) first_error = task->error();
      }
      std::erase_if(unfinished, [](TaskStateBase* task) { return task->done(); });
      if (first_error && on_failure == OnFailure::cancel_others) break;
      if (!unfinished.empty()) co_await watch.wait();
    }
  } catch (...) {
    caller_cancelled = true;
  }
  if (caller_cancelled || first_error) {
    TAILCUT_AWAIT_JOIN(cancel_and_join(tasks));
  }
  if (caller_cancelled) throw_cancelled();
  co_return first_error;
}

}  // namespace tailcut::async::detail
