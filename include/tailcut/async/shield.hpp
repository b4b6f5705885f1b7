// shield: await a task without letting the caller's cancellation reach it,
// like asyncio.shield.
//
//   auto delivery = async::spawn(executor, deliver(endpoint, payload));
//   try {
//     co_await async::wait_for(async::shield(delivery), 1s);
//   } catch (const boost::system::system_error&) {
//     // timed out: `delivery` is still running; await or cancel it later
//   }
//
// When the caller is cancelled (directly, by wait_for, a deadline scope or a
// task group), shield stops waiting and throws operation_aborted at once;
// the task runs on. Cancel it explicitly with Task::cancel().
#pragma once

#include "tailcut/async/task.hpp"

namespace tailcut::async {

template <typename T>
boost::asio::awaitable<T> shield(Task<T> task) {
  co_await detail::wait_done(task.state(), detail::CancelTask::no);
  co_return detail::share_value(task.outcome());
}

}  // namespace tailcut::async
