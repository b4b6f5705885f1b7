// gather: run operations concurrently and collect their results in input
// order, like asyncio.gather.
//
//   auto [user, orders] = co_await async::gather(get_user(id), get_orders(id));
//   std::vector<Page> pages = co_await async::gather(std::move(page_fetches));
//   auto outcomes = co_await async::gather(async::return_exceptions, std::move(fetches));
//
// Default mode: the first operation to fail makes gather fail with its
// error; return_exceptions: every result or error comes back as an Outcome.
// Difference from asyncio: when one operation fails (default mode) or the
// caller is cancelled, gather cancels the others and waits until they have
// unwound: they may refer to the caller's frame (asyncio leaves them running).
// Operations are calls of named coroutine functions, as above, not capturing
// lambdas called inside the co_await expression: g++ 12 destroys those
// twice (see task.hpp).
#pragma once

#include <tuple>
#include <vector>

#include "tailcut/async/task.hpp"

namespace tailcut::async {

struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
// Selects gather's mode in which errors are returned as values.
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

enum class OnFailure { cancel_others, keep_going };

// Waits until every task is done. With OnFailure::cancel_others the first
// failure cancels the rest; returns the first failure's error (or null).
// The caller's cancellation cancels all of them, joins, then rethrows.
boost::asio::awaitable<std::exception_ptr> join_all(std::vector<TaskStateBase*> tasks,
                                                    OnFailure on_failure);

template <typename T>
ValueOf<T> take_value(Task<T>& task) {
  if constexpr (std::is_void_v<T>) {
    task.outcome().value();
    return {};
  } else {
    return std::move(task.outcome()).value();
  }
}

template <typename... T>
std::vector<TaskStateBase*> states_of(std::tuple<Task<T>...>& tasks) {
  return std::apply([](auto&... task) { return std::vector<TaskStateBase*>{&task.state()...}; },
                    tasks);
}

template <typename T>
std::vector<TaskStateBase*> states_of(std::vector<Task<T>>& tasks) {
  std::vector<TaskStateBase*> states;
  states.reserve(tasks.size());
  for (auto& task : tasks) states.push_back(&task.state());
  return states;
}

template <typename T, typename Executor>
std::vector<Task<T>> spawn_all(const Executor& executor,
                               std::vector<boost::asio::awaitable<T>> operations) {
  std::vector<Task<T>> tasks;
  tasks.reserve(operations.size());
  for (auto& operation : operations) tasks.push_back(spawn(executor, std::move(operation)));
  return tasks;
}

}  // namespace detail

// A fixed set of operations; results as a tuple (void becomes std::monostate).
template <typename... T>
boost::asio::awaitable<std::tuple<ValueOf<T>...>> gather(boost::asio::awaitable<T>... operations) {
  auto executor = co_await boost::asio::this_coro::executor;
  std::tuple<Task<T>...> tasks{spawn(executor, std::move(operations))...};
  const auto first_error =
      co_await detail::join_all(detail::states_of(tasks), detail::OnFailure::cancel_others);
  if (first_error) std::rethrow_exception(first_error);
  co_return std::apply(
      [](auto&... task) { return std::tuple<ValueOf<T>...>{detail::take_value(task)...}; }, tasks);
}

// A range of operations of one type; results in input order.
template <typename T>
boost::asio::awaitable<std::vector<ValueOf<T>>> gather(
    std::vector<boost::asio::awaitable<T>> operations) {
  auto tasks = detail::spawn_all(co_await boost::asio::this_coro::executor, std::move(operations));
  const auto first_error =
      co_await detail::join_all(detail::states_of(tasks), detail::OnFailure::cancel_others);
  if (first_error) std::rethrow_exception(first_error);
  std::vector<ValueOf<T>> values;
  values.reserve(tasks.size());
  for (auto& task : tasks) values.push_back(detail::take_value(task));
  co_return values;
}

// A fixed set; every result or error as an Outcome, in input order.
template <typename... T>
boost::asio::awaitable<std::tuple<Outcome<T>...>> gather(ReturnExceptions,
                                                         boost::asio::awaitable<T>... operations) {
  auto executor = co_await boost::asio::this_coro::executor;
  std::tuple<Task<T>...> tasks{spawn(executor, std::move(operations))...};
  co_await detail::join_all(detail::states_of(tasks), detail::OnFailure::keep_going);
  co_return std::apply(
      [](auto&... task) { return std::tuple<Outcome<T>...>{std::move(task.outcome())...}; }, tasks);
}

// A range; every result or error as an Outcome, in input order.
template <typename T>
boost::asio::awaitable<std::vector<Outcome<T>>> gather(
    ReturnExceptions, std::vector<boost::asio::awaitable<T>> operations) {
  auto tasks = detail::spawn_all(co_await boost::asio::this_coro::executor, std::move(operations));
  co_await detail::join_all(detail::states_of(tasks), detail::OnFailure::keep_going);
  std::vector<Outcome<T>> outcomes;
  outcomes.reserve(tasks.size());
  for (auto& task : tasks) outcomes.push_back(std::move(task.outcome()));
  co_return outcomes;
}

}  // namespace tailcut::async
