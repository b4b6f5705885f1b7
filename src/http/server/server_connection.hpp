// ServerConnection: one connection of the HTTP server. Its life cycle is
// in connection.cpp, its reads and writes in connection_io.cpp, the watch
// on its client while a handler runs in departure_watch.cpp. Private to
// src/http/server.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "../common/receive_time.hpp"
#include "../common/socket_watchdog.hpp"
#include "departure_watch.hpp"
#include "request_reader.hpp"
#include "response_head.hpp"
#include "tailcut/http/message.hpp"

namespace tailcut::http::detail {

class ServerCore;
struct Worker;
class RequestLabel;

using boost::asio::awaitable;
using tcp = boost::asio::ip::tcp;

class ServerConnection {
 public:
  ServerConnection(ServerCore& core, std::size_t worker_index, tcp::socket socket,
                   std::shared_ptr<boost::asio::cancellation_signal> cancel);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // Serves requests until the client leaves, a limit or a timeout is hit,
  // or the server shuts down; then closes the socket.
  awaitable<void> run();

  // Starts watching the client of a running handler (the departure sweep).
  void watch_departure();

  // Ends the connection if it waits for a request (server shutdown).
  void close_if_idle();
  // The shutdown grace has passed: cancels the handler, whose request is
  // answered 503 before the connection ends; any other phase ends now.
  void force_close();

 private:
  enum class Phase { waiting_for_request, reading_request, handling, writing };

  // Starts waiting for the next request: false when it is in the buffer
  // already (pipelined). Then ends the wait once bytes came: false when the
  // connection is to close.
  bool begin_wait_for_request(bool first);
  bool end_wait_for_request(bool first, const boost::system::error_code& error);
  awaitable<bool> serve_request();
  // Into `request` rather than returned: an awaited value would take room
  // in the caller's frame for as long as the connection lives.
  awaitable<void> read_request(std::optional<Request>& request, boost::system::error_code& error);
  enum class ParseUntil { header_done, done };
  awaitable<std::size_t> parse(RequestParser& parser, ParseUntil until,
                               boost::system::error_code& error);
  // A read is a wait for the socket to be readable, then one recvmsg that
  // notes the kernel's time stamp of the bytes (see last_receive_time_).
  // Not coroutines: the wait is the socket's own operation.
  awaitable<void> wait_readable(boost::system::error_code& error);
  // False when the socket had nothing to read after all (wait again).
  bool receive(boost::asio::mutable_buffer space, boost::system::error_code& error,
               std::size_t& received);
  // The handler is about to run / has run (see serve_request()).
  void enter_handler();
  awaitable<Response> dispatch(Request& request, std::uint64_t id);
  Response handler_failed(const RequestLabel& label, std::uint64_t id, std::string_view failure);
  awaitable<bool> refuse(boost::system::error_code read_error);
  awaitable<bool> send(const Response& response, Framing framing, bool header_only);
  // How far send_at_once() got.
  struct SendProgress {
    std::size_t written = 0;
    bool over = false;  // sent, or failed (see sent)
    bool sent = false;
  };
  SendProgress send_at_once(const Response& response, const Framing& framing, bool header_only);
  awaitable<bool> send_rest(const Response& response, const Framing& framing, bool header_only,
                            std::size_t written);
  awaitable<void> linger();
  void close();
  // The handler runs; the departure sweep will watch it (see above).
  void enter_unwatched();
  void leave_unwatched() noexcept;
  // The handler is done: stops the watch on its client, if any.
  void stop_watching() noexcept;

  static constexpr std::size_t not_listed = static_cast<std::size_t>(-1);

  ServerCore& core_;
  Worker& worker_;
  std::size_t worker_index_;
  tcp::socket socket_;
  // The header, body, idle and write timeouts (one timer, moved lazily).
  SocketWatchdog watchdog_;
  boost::beast::flat_buffer buffer_;
  tcp::endpoint remote_;
  std::shared_ptr<boost::asio::cancellation_signal> cancel_;
  Phase phase_ = Phase::waiting_for_request;
  bool force_closed_ = false;
  bool dropped_ = false;  // the handler called drop_connection()
  // With ServerOptions::count_kernel_wait (time stamps set on the listening
  // socket and inherited, server.cpp): when the bytes of the last read
  // arrived (receive_time.hpp), for RequestContext::received_at.
  ReceiveTime last_receive_time_;
  // Watch of the request being handled: did the client close the connection?
  std::shared_ptr<DepartureWatch> departure_;
  std::size_t unwatched_index_ = not_listed;  // in worker_.unwatched
  [[nodiscard]] bool client_left() const noexcept { return departure_ && departure_->client_left; }
};

}  // namespace tailcut::http::detail
