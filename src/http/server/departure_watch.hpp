// The departure watch of a connection whose request is being handled:
// when the client closes the connection (or resets it), nobody waits for
// the answer any more, so the handler is cancelled.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>

namespace tailcut::http::detail {

struct Worker;

// Watches a connection while its request is handled: when the client closes
// it (or resets it), nobody waits for the answer any more, so the handler is
// cancelled through the connection's own cancellation signal. Pipelined
// bytes end the watch (the next request is there). A plain completion
// handler rather than a task.
//
// Watching costs a system call (Asio re-arms the socket in epoll for a wait),
// more than the rest of a fast request's reading: a handler is watched only
// once it has run for a while, by the worker's departure sweep, which wakes
// every departure_sweep_interval while handlers run unwatched.
inline constexpr std::chrono::milliseconds departure_sweep_interval{20};

struct DepartureWatch {
  bool active = true;
  bool client_left = false;
};

// Waits for `socket` to be readable, then cancels through `cancel` if the
// client left; bytes to read (pipelined) end the watch.
void watch_for_departure(boost::asio::ip::tcp::socket& socket,
                         std::shared_ptr<DepartureWatch> watch,
                         std::shared_ptr<boost::asio::cancellation_signal> cancel);

// Watches the handlers of `worker` that run unwatched (its sweep's turn).
void sweep_departures(Worker& worker);

}  // namespace tailcut::http::detail
