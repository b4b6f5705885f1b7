// A server connection's reads and writes: a request read under the
// header and body timeouts, a response sent at once or under the write
// timeout, a refusal and the lingering after it.
#include <algorithm>
#include <array>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include "server_connection.hpp"
#include "server_core.hpp"

namespace tailcut::http::detail {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;

// Bytes asked for by each further read of a request (as Beast's reads).
constexpr std::size_t min_read_bytes = 512;
constexpr std::size_t max_read_bytes = 64 * 1024;
// After refusing a request, how long the server reads and drops what the
// client still sends before closing: closing with unread data resets the
// connection, which can destroy the response before the client reads it.
constexpr std::chrono::seconds linger_time{1};
constexpr std::size_t max_linger_reads = 1024;
constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

bool expects_continue(const Request& request) {
  return request.version() >= 11 &&
         beast::iequals(request[bhttp::field::expect], std::string_view{"100-continue"});
}

// Drops the first `count` bytes of a gather list.
void drop_front(std::array<boost::asio::const_buffer, 2>& wire, std::size_t count) {
  for (auto& buffer : wire) {
    const std::size_t dropped = std::min(count, buffer.size());
    buffer += dropped;
    count -= dropped;
  }
}

// The head and body of a finished response, as written to the socket.
std::array<boost::asio::const_buffer, 2> wire_of(const std::string& head, const Response& response,
                                                 bool header_only) {
  return {boost::asio::buffer(head),
          header_only ? boost::asio::const_buffer{} : boost::asio::buffer(response.body())};
}

}  // namespace

// Reads one request under the header and body timeouts (its own coroutine,
// so that the parser is gone while the handler runs). Sets `error` when the
// request could not be read.
awaitable<void> ServerConnection::read_request(std::optional<Request>& request,
                                               boost::system::error_code& error) {
  const ServerOptions& options = core_.options();
  RequestParser parser;
  set_limits(parser, options);

  const std::size_t head_size = co_await parse(parser, ParseUntil::header_done, error);
  HeadFields head;
  if (!error) {
    // Before the body and any 100 Continue.
    const std::string_view head_bytes{static_cast<const char*>(buffer_.data().data()), head_size};
    head = check_head(parser, head_bytes, error);
  }
  buffer_.consume(head_size);
  if (!error && !parser.is_done()) {
    watchdog_.expires_after(options.body_timeout);
    if (expects_continue(parser.get())) {
      co_await boost::asio::async_write(socket_, boost::asio::buffer(continue_response),
                                        redirect_error(use_awaitable, error));
    }
    if (!error) co_await parse(parser, ParseUntil::done, error);
  }
  request.emplace(release_request(parser, head));
}

// Feeds the parser what the buffer holds, reading more only while it needs
// more: what Beast's http::async_read does, without the composed operations
// and the trip through the scheduler that cost more than the rest of
// reading a small request (which is usually in the buffer already). Until
// header_done, returns the head's size: its bytes are left at the front of
// the buffer, for the caller to check and consume; 0 otherwise.
awaitable<std::size_t> ServerConnection::parse(RequestParser& parser, ParseUntil until,
                                               boost::system::error_code& error) {
  const auto finished = [&] {
    return until == ParseUntil::header_done ? parser.is_header_done() : parser.is_done();
  };
  for (;;) {
    if (!parser.is_header_done()) {
      // Beast has consumed nothing of a head it has not all read.
      skip_empty_lines(buffer_);
      read_higher_minor_version_as_1_1(buffer_);
    }
    if (buffer_.size() > 0 && (parser.is_header_done() || !is_lone_cr(buffer_))) {
      const std::size_t used = parser.put(buffer_.data(), error);
      if (error == bhttp::error::need_more) error = {};
      if (!error && until == ParseUntil::header_done && parser.is_header_done()) co_return used;
      buffer_.consume(used);
      if (error || finished()) co_return 0;
      if (used > 0 && buffer_.size() > 0) continue;
    }
    const std::size_t room =
        std::clamp(buffer_.capacity() - buffer_.size(), min_read_bytes, max_read_bytes);
    co_await wait_readable(error);
    std::size_t received = 0;
    if (!error && !receive(buffer_.prepare(room), error, received)) continue;  // nothing after all
    buffer_.commit(received);
    if (error == boost::asio::error::eof) {
      if (!parser.got_some()) {
        error = bhttp::error::end_of_stream;
        co_return 0;
      }
      parser.put_eof(error);  // ends a message delimited by the close, or fails it
      if (!error && !finished()) error = bhttp::error::partial_message;
      co_return 0;
    }
    if (error) co_return 0;
  }
}

awaitable<void> ServerConnection::wait_readable(boost::system::error_code& error) {
  return socket_.async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, error));
}

// Waiting first spares the receive that would find nothing on a connection
// kept alive. Without time stamps on the socket (count_kernel_wait off, or
// a system without them) the receive notes none.
bool ServerConnection::receive(boost::asio::mutable_buffer space, boost::system::error_code& error,
                               std::size_t& received) {
  return receive_noting_time(socket_.native_handle(), space, last_receive_time_, error, received);
}

// Answers a request that could not be read, when there is anything to say.
// Always returns false: the connection closes.
awaitable<bool> ServerConnection::refuse(boost::system::error_code read_error) {
  std::optional<Refusal> refusal =
      refusal_for(read_error, {static_cast<const char*>(buffer_.data().data()), buffer_.size()});
  if (!refusal) co_return false;
  Response response = json_error(refusal->status, refusal->code, refusal->message);
  const Framing framing = finish(response, RequestFacts{}, core_.next_request_id(), true);
  if (co_await send(response, framing, false)) co_await linger();
  co_return false;
}

awaitable<bool> ServerConnection::send(const Response& response, Framing framing,
                                       bool header_only) {
  const SendProgress progress = send_at_once(response, framing, header_only);
  if (progress.over) co_return progress.sent;
  co_return co_await send_rest(response, framing, header_only, progress.written);
}

// Most answers fit in the socket's send buffer: written by one system call
// here, without an asynchronous operation or a coroutine (the socket is in
// non-blocking mode, so this never waits). What is left, send_rest() writes.
ServerConnection::SendProgress ServerConnection::send_at_once(const Response& response,
                                                              const Framing& framing,
                                                              bool header_only) {
  phase_ = Phase::writing;
  core_.count_request_handled();
  const std::string head = serialize_head(response, framing);
  const auto wire = wire_of(head, response, header_only);
  boost::system::error_code error;
  SendProgress progress;
  progress.written = socket_.write_some(wire, error);
  if (!error && progress.written == boost::asio::buffer_size(wire)) {
    progress.over = progress.sent = true;
  } else if (error && error != boost::asio::error::would_block) {
    progress.over = true;
  }
  return progress;
}

// The rest of a response after send_at_once() (its first `written` bytes),
// under the write timeout. The head is made again: the same bytes, kept
// only while this waits.
awaitable<bool> ServerConnection::send_rest(const Response& response, const Framing& framing,
                                            bool header_only, std::size_t written) {
  const std::string head = serialize_head(response, framing);
  auto wire = wire_of(head, response, header_only);
  drop_front(wire, written);
  boost::system::error_code error;
  watchdog_.expires_after(core_.options().write_timeout);
  co_await boost::asio::async_write(socket_, wire, redirect_error(use_awaitable, error));
  watchdog_.expires_never();
  co_return !error;
}

// Ends the sending side, then reads and drops what the client still sends
// until it closes or linger_time passes.
awaitable<void> ServerConnection::linger() {
  boost::system::error_code error;
  socket_.shutdown(tcp::socket::shutdown_send, error);
  watchdog_.expires_after(linger_time);
  std::array<char, 4096> discarded;
  for (std::size_t reads = 0; !error && reads < max_linger_reads; ++reads) {
    co_await socket_.async_read_some(boost::asio::buffer(discarded),
                                     redirect_error(use_awaitable, error));
  }
}

}  // namespace tailcut::http::detail
