// The departure watch and sweep (departure_watch.hpp), and the
// connection's part in them.
#include "departure_watch.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "server_connection.hpp"
#include "server_core.hpp"

namespace tailcut::http::detail {

using tcp = boost::asio::ip::tcp;

void watch_for_departure(tcp::socket& socket, std::shared_ptr<DepartureWatch> watch,
                         std::shared_ptr<boost::asio::cancellation_signal> cancel) {
  socket.async_wait(
      tcp::socket::wait_read, [&socket, watch, cancel](const boost::system::error_code& error) {
        if (error || !watch->active) return;  // the handler is done (or the socket went)
        // Not socket.receive(): Asio's synchronous receive would block on a
        // wake-up with nothing to read instead of saying would_block.
        char byte = 0;
        const auto peeked = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          watch_for_departure(socket, watch, cancel);
          return;
        }
        if (peeked <= 0) {
          watch->client_left = true;
          cancel->emit(boost::asio::cancellation_type::terminal);
        }
      });
}

void sweep_departures(Worker& worker) {
  worker.departure_sweep_pending = false;
  std::vector<ServerConnection*> running;
  running.swap(worker.unwatched);
  for (ServerConnection* connection : running) connection->watch_departure();
  running.clear();
  if (worker.unwatched.empty()) worker.unwatched.swap(running);  // keeps the capacity
}

// Starts watching the client of a running handler (the departure sweep).
void ServerConnection::watch_departure() {
  unwatched_index_ = not_listed;
  departure_ = std::make_shared<DepartureWatch>();
  watch_for_departure(socket_, departure_, cancel_);
}

// Runs the router while watching the client, so that a client that goes
// away cancels its handler (an upstream call, say) at once. A handler's
// exception becomes a 500 and a log line.
void ServerConnection::enter_handler() {
  departure_.reset();
  enter_unwatched();
}

void ServerConnection::enter_unwatched() {
  unwatched_index_ = worker_.unwatched.size();
  worker_.unwatched.push_back(this);
  if (worker_.departure_sweep_pending) return;
  worker_.departure_sweep_pending = true;
  worker_.departure_sweep.expires_after(departure_sweep_interval);
  Worker* worker = &worker_;
  worker_.departure_sweep.async_wait([worker](const boost::system::error_code& error) {
    if (!error) sweep_departures(*worker);
  });
}

void ServerConnection::leave_unwatched() noexcept {
  if (unwatched_index_ == not_listed) return;
  std::vector<ServerConnection*>& unwatched = worker_.unwatched;
  ServerConnection* last = unwatched.back();
  unwatched[unwatched_index_] = last;
  last->unwatched_index_ = unwatched_index_;
  unwatched.pop_back();
  unwatched_index_ = not_listed;
}

void ServerConnection::stop_watching() noexcept {
  leave_unwatched();
  if (!departure_) return;
  departure_->active = false;
  boost::system::error_code ignored;
  socket_.cancel(ignored);  // ends the pending wait; nothing else is pending now
}

}  // namespace tailcut::http::detail
