// The life cycle of a server connection: it reads requests one at a time
// (so pipelined requests are answered in order), has each handled and
// answered, and ends when the client leaves, a limit or a timeout is hit or
// the server shuts down. Reads and writes: connection_io.cpp.
#include <algorithm>
#include <array>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <string>
#include <vector>

#include "../common/socket_closer.hpp"
#include "../common/text_escape.hpp"
#include "server_connection.hpp"
#include "server_core.hpp"

namespace tailcut::http::detail {

namespace {

namespace bhttp = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using namespace std::string_view_literals;

// Bytes asked for when waiting for the start of a request.
constexpr std::size_t first_read_bytes = 1024;  // most requests fit

// The shortest of the timeouts a connection sets: how often its watchdog
// wakes at most (lingering, rare, moves it earlier).
std::chrono::milliseconds shortest_timeout(const ServerOptions& options) {
  return std::min(
      {options.header_timeout, options.body_timeout, options.idle_timeout, options.write_timeout});
}

// When the bytes of the request just read reached this host: now, less how
// long the last of them waited in the kernel before the read, from the
// kernel's time stamp of them (`received`, by the system clock). Without
// one: now.
std::chrono::steady_clock::time_point arrival_time(const ReceiveTime& received) {
  const auto now = std::chrono::steady_clock::now();
  if (!received) return now;
  // The system clock set back or forward meanwhile: no wait, or a minute.
  constexpr std::chrono::steady_clock::duration longest_wait = std::chrono::minutes{1};
  const auto waited = std::clamp(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::system_clock::now() - *received),
                                 std::chrono::steady_clock::duration::zero(), longest_wait);
  return now - waited;
}

}  // namespace

// "METHOD target" of a request, for the log line of a failure: kept
// without an allocation (the request goes to the handler), cut at a length
// no log needs.
class RequestLabel {
 public:
  explicit RequestLabel(const Request& request) {
    for (const std::string_view part :
         {std::string_view{request.method_string()}, " "sv, std::string_view{request.target()}}) {
      const std::size_t kept = std::min(part.size(), bytes_.size() - size_);
      std::copy_n(part.data(), kept, bytes_.data() + size_);
      size_ = static_cast<std::uint8_t>(size_ + kept);
    }
  }
  [[nodiscard]] std::string_view text() const noexcept { return {bytes_.data(), size_}; }

 private:
  std::array<char, 55> bytes_;
  std::uint8_t size_ = 0;
};

ServerConnection::ServerConnection(ServerCore& core, std::size_t worker_index, tcp::socket socket,
                                   std::shared_ptr<boost::asio::cancellation_signal> cancel)
    : core_{core},
      worker_{core.worker(worker_index)},
      worker_index_{worker_index},
      socket_{std::move(socket)},
      watchdog_{socket_, worker_.closer, async::detail::SharedTimer::of(socket_.get_executor()),
                shortest_timeout(core.options())},
      cancel_{std::move(cancel)} {
  boost::system::error_code ignored;
  remote_ = socket_.remote_endpoint(ignored);
  socket_.non_blocking(true, ignored);  // for the write at once in send()
  worker_.connections.insert(this);
}

ServerConnection::~ServerConnection() {
  leave_unwatched();
  worker_.connections.erase(this);
}

void ServerConnection::close_if_idle() {
  boost::system::error_code ignored;
  if (phase_ == Phase::waiting_for_request) socket_.cancel(ignored);
}

// A running handler is cancelled, and its client still gets an answer: a
// 503 (serve_request()). A connection in any other phase closes now.
void ServerConnection::force_close() {
  force_closed_ = true;
  cancel_->emit(boost::asio::cancellation_type::terminal);
  if (phase_ != Phase::handling) worker_.closer.close(socket_, SocketCloser::How::graceful);
}

awaitable<void> ServerConnection::run() {
  try {
    for (bool first = true; !core_.shutting_down(); first = false) {
      // Here rather than in a coroutine of its own: once per request.
      if (begin_wait_for_request(first)) {
        boost::system::error_code error;
        // Empty lines before the request (RFC 9112 2.2): still waiting,
        // under the same timeout.
        do {
          co_await wait_readable(error);
          std::size_t received = 0;
          if (!error && receive(buffer_.prepare(first_read_bytes), error, received)) {
            buffer_.commit(received);
          }
        } while (!error && !starts_request(buffer_));
        if (!end_wait_for_request(first, error)) break;
      }
      if (!co_await serve_request()) break;
    }
  } catch (const std::exception& error) {
    if (!force_closed_ && !client_left()) {
      core_.log_error(std::string{"connection failed: "} + error.what());
    }
  }
  close();
}

// Waits for the first bytes of the next request under the idle timeout; on a
// new connection under the header timeout, which counts from its opening.
// Returns false when the next request is there already (pipelined); empty
// lines after the last one are not.
bool ServerConnection::begin_wait_for_request(bool first) {
  const ServerOptions& options = core_.options();
  if (starts_request(buffer_)) {
    phase_ = Phase::reading_request;
    watchdog_.expires_after(options.header_timeout);
    return false;
  }
  phase_ = Phase::waiting_for_request;
  watchdog_.expires_after(first ? options.header_timeout : options.idle_timeout);
  return true;
}

// After the wait's read: false when the connection is to close.
bool ServerConnection::end_wait_for_request(bool first, const boost::system::error_code& error) {
  phase_ = Phase::reading_request;
  if (error) return false;
  if (!first) watchdog_.expires_after(core_.options().header_timeout);
  return true;
}

// Reads one request, has it answered and sends the response. Returns false
// when the connection is to close.
awaitable<bool> ServerConnection::serve_request() {
  boost::system::error_code error;
  // Usually the whole request is in the buffer already: parsed without a
  // coroutine of its own.
  std::optional<Request> request = take_buffered_request(buffer_, core_.options(), error);
  if (!request && !error) co_await read_request(request, error);
  if (error) co_return co_await refuse(error);
  watchdog_.expires_never();  // the handler's time is its own business
  // A handler may wait a long time: it does so without a read buffer.
  if (buffer_.size() == 0) buffer_.shrink_to_fit();

  const std::uint64_t id = core_.next_request_id();
  RequestFacts facts;
  facts.version = request->version();
  facts.keep_alive = request->keep_alive();
  facts.head = request->method() == bhttp::verb::head;

  // The handler runs in this frame (a coroutine of its own would be one
  // more frame per call in flight).
  phase_ = Phase::handling;
  const RequestLabel label{*request};
  enter_handler();
  Response response;
  {
    // The handler is done, however it ended: stop watching its client.
    struct StopWatching {
      ServerConnection& connection;
      ~StopWatching() { connection.stop_watching(); }
    } watching{*this};
    // A handler that throws is answered 500 (unless nobody reads it): its
    // answer made here, where the reason is known.
    try {
      response = co_await dispatch(*request, id);
    } catch (const DropConnection&) {
      dropped_ = true;
      core_.count_request_handled();  // handled: by hanging up
    } catch (const std::exception& thrown) {
      const std::string_view what = thrown.what();
      if (!client_left()) {
        response =
            handler_failed(label, id, what.empty() ? "an exception without a message" : what);
      }
    } catch (...) {
      if (!client_left()) {
        response = handler_failed(label, id, "an exception that is not a std::exception");
      }
    }
  }
  if (client_left() || dropped_) co_return false;
  if (force_closed_) {
    // Whatever the cancelled handler made of it: the call was cut short.
    response = json_error(bhttp::status::service_unavailable, "shutting_down",
                          "the server is shutting down and its grace period ended before this "
                          "request was answered");
  }
  const Framing framing = finish(response, facts, id, core_.shutting_down());
  const bool keep_alive = framing.keep_alive;
  const SendProgress progress = send_at_once(response, framing, facts.head);
  bool sent = progress.sent;
  if (!progress.over) sent = co_await send_rest(response, framing, facts.head, progress.written);
  if (sent && !keep_alive && (buffer_.size() > 0 || socket_.available(error) > 0)) {
    co_await linger();  // the client sent more: let it read this response first
  }
  const bool stays_open = sent && keep_alive;
  co_return stays_open;
}

// The handler of request `id`, read into `request`, as the router finds
// it. Not a coroutine: the request's context is made here, not kept in
// serve_request's frame (the handler has its own copy).
awaitable<Response> ServerConnection::dispatch(Request& request, std::uint64_t id) {
  RequestContext context;
  context.id = id;
  context.received_at = arrival_time(last_receive_time_);
  context.remote = remote_;
  context.worker = worker_index_;
  return worker_.router.dispatch(std::move(request), context);
}

// A handler threw: logged (unless the connection is gone), answered 500.
Response ServerConnection::handler_failed(const RequestLabel& label, std::uint64_t id,
                                          std::string_view failure) {
  if (!force_closed_) {
    // Quoted: the target is the client's bytes (see quoted_for_log).
    core_.log_error("request " + std::to_string(id) + " " + detail::quoted_for_log(label.text()) +
                    ": handler failed: " + detail::quoted_for_log(failure));
  }
  return json_error(bhttp::status::internal_server_error, "internal_error",
                    "the server failed to handle the request");
}

// By the worker's SocketCloser: 2,000 clients leaving at once do not stall
// the worker for the kernel's work on their closes.
void ServerConnection::close() { worker_.closer.close(socket_, SocketCloser::How::graceful); }

namespace {

awaitable<void> serve_connection(OpenConnection open, std::size_t worker_index, tcp::socket socket,
                                 std::shared_ptr<boost::asio::cancellation_signal> cancel) {
  ServerConnection connection{open.core(), worker_index, std::move(socket), std::move(cancel)};
  co_await connection.run();
}

// Completion of a connection's coroutine; keeps its cancellation signal
// alive for as long as the coroutine may use it.
struct ConnectionEnded {
  ServerCore* core;
  std::shared_ptr<boost::asio::cancellation_signal> cancel;
  void operator()(const std::exception_ptr& error) const {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& exception) {
      core->log_error(std::string{"connection ended with: "} + exception.what());
    }
  }
};

// A copy of the worker's connections, for calls that may end some of them.
std::vector<ServerConnection*> snapshot(const Worker& worker) {
  // NOLINTNEXTLINE(modernize-return-braced-init-list): braces would mean a list
  return std::vector<ServerConnection*>(worker.connections.begin(), worker.connections.end());
}

}  // namespace

void start_connection(OpenConnection open, std::size_t worker_index, tcp::socket socket) {
  ServerCore& core = open.core();
  const auto executor = socket.get_executor();
  auto cancel = std::make_shared<boost::asio::cancellation_signal>();
  auto slot = cancel->slot();
  ConnectionEnded ended{&core, cancel};
  boost::asio::co_spawn(
      executor,
      serve_connection(std::move(open), worker_index, std::move(socket), std::move(cancel)),
      boost::asio::bind_cancellation_slot(slot, std::move(ended)));
}

void close_idle_connections(Worker& worker) {
  for (ServerConnection* connection : snapshot(worker)) {
    if (worker.connections.contains(connection)) connection->close_if_idle();
  }
}

void force_close_connections(Worker& worker) {
  for (ServerConnection* connection : snapshot(worker)) {
    if (worker.connections.contains(connection)) connection->force_close();
  }
}

}  // namespace tailcut::http::detail
