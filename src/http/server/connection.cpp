// One connection of the HTTP server: reads requests one at a time (so
// pipelined requests are answered in order), routes them, writes the
// responses, and enforces the sizes, timeouts and shutdown of ServerOptions.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "../common/socket_closer.hpp"
#include "../common/socket_watchdog.hpp"
#include "request_reader.hpp"
#include "server_core.hpp"

namespace tailcut::http::detail {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::asio::awaitable;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using tcp = boost::asio::ip::tcp;
using namespace std::string_view_literals;

// Bytes asked for when waiting for the start of a request.
constexpr std::size_t first_read_bytes = 1024;  // most requests fit; idle connections keep it
// Bytes asked for by each further read of a request (as Beast's reads).
constexpr std::size_t min_read_bytes = 512;
constexpr std::size_t max_read_bytes = 64 * 1024;
// After refusing a request, how long the server reads and drops what the
// client still sends before closing: closing with unread data resets the
// connection, which can destroy the response before the client reads it.
constexpr std::chrono::seconds linger_time{1};
constexpr std::size_t max_linger_reads = 1024;
constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view request_id_field = "X-Request-Id";

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

// What the response depends on, taken before the request goes to the handler.
struct RequestFacts {
  unsigned version = 11;
  bool keep_alive = false;
  bool head = false;  // HEAD: send the header of the response only
};

bool expects_continue(const Request& request) {
  return request.version() >= 11 &&
         beast::iequals(request[bhttp::field::expect], std::string_view{"100-continue"});
}

bool asks_to_close(const Response& response) {
  for (const auto& token : bhttp::token_list{response[bhttp::field::connection]}) {
    if (beast::iequals(token, std::string_view{"close"})) return true;
  }
  return false;
}

bool has_no_body(bhttp::status status) {
  return bhttp::to_status_class(status) == bhttp::status_class::informational ||
         status == bhttp::status::no_content || status == bhttp::status::not_modified;
}

// What the server writes in a response's head besides the handler's own
// fields (see serialize_head): its name, the request id, the connection's
// fate and the body's length. Written straight into the head rather than
// set as fields, which would cost an allocation and a search each.
struct Framing {
  enum class Length { none, of_body, handlers_own };
  std::uint64_t request_id = 0;
  bool keep_alive = false;
  Length length = Length::of_body;
};

// Completes a response for the wire: how it is framed, and with it whether
// the connection stays open after it.
Framing finish(Response& response, const RequestFacts& facts, std::uint64_t request_id,
               bool shutting_down) {
  response.version(facts.version);
  Framing framing;
  framing.request_id = request_id;
  framing.keep_alive = facts.keep_alive && !asks_to_close(response) && !shutting_down;
  if (has_no_body(response.result())) {
    response.body().clear();
    framing.length = Framing::Length::none;
  } else if (facts.head && response.body().empty() && response.has_content_length()) {
    // A HEAD route's own Content-Length: the size the GET body would have.
    framing.length = Framing::Length::handlers_own;
  }
  return framing;
}

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

// Whether serialize_head writes this field itself (see Framing), in place
// of the handler's.
bool framed_by_server(const bhttp::fields::value_type& field, const Framing& framing) {
  switch (field.name()) {
    case bhttp::field::server:
    case bhttp::field::connection:
    case bhttp::field::transfer_encoding:
      return true;
    case bhttp::field::content_length:
      return framing.length != Framing::Length::handlers_own;
    case bhttp::field::unknown:
      return beast::iequals(field.name_string(), request_id_field);
    default:
      return false;
  }
}

// Writes a response head into a string sized beforehand to an upper bound
// of what is written (see serialize_head). Every piece is copied by one
// out-of-line routine rather than an inlined std::string::append with its
// own growth path: the head is made for every answer, and the smaller code
// misses the instruction cache less often than the calls cost (callgrind,
// per proxied call: −0.25 k instructions and −15 instruction-cache misses;
// with the profile-guided build −0.1 k and −36).
class HeadWriter {
 public:
  static constexpr std::size_t max_number_digits = 20;  // 2^64 - 1

  // Resizes `head` to `capacity` characters, which what is written must not
  // exceed; finish() cuts it to what was written.
  HeadWriter(std::string& head, std::size_t capacity) : head_{head} {
    head_.resize(capacity);
    at_ = head_.data();  // after the resize, which moves the characters
  }

  [[gnu::noinline]] void put(std::string_view piece) noexcept {
    assert(written() + piece.size() <= head_.size());
    std::memcpy(at_, piece.data(), piece.size());
    at_ += piece.size();
  }
  void put_number(std::uint64_t number) noexcept {
    assert(written() + max_number_digits <= head_.size());
    at_ = std::to_chars(at_, at_ + max_number_digits, number).ptr;
  }
  void finish() noexcept { head_.resize(written()); }

 private:
  [[nodiscard]] std::size_t written() const noexcept {
    return static_cast<std::size_t>(at_ - head_.data());
  }

  std::string& head_;
  char* at_ = nullptr;
};

// The status line and header fields of a finished response (see finish()),
// in one buffer: written with the body in one gather write, without Beast's
// serializer, which costs more than the rest of sending a small answer.
std::string serialize_head(const Response& response, const Framing& framing) {
  std::string_view reason = response.reason();
  if (reason.empty()) reason = bhttp::obsolete_reason(response.result());
  // The fixed parts: the status line's and the server's own fields below
  // (their longest choices), and room for their three numbers.
  std::size_t size = 128 + reason.size() + 3 * HeadWriter::max_number_digits;
  for (const auto& field : response) size += field.name_string().size() + field.value().size() + 4;
  std::string head;
  HeadWriter writer{head, size};
  const bool http_1_0 = response.version() == 10;
  writer.put(http_1_0 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv);
  writer.put_number(response.result_int());
  writer.put(" "sv);
  writer.put(reason);
  writer.put("\r\n"sv);
  for (const auto& field : response) {
    if (framed_by_server(field, framing)) continue;
    writer.put(field.name_string());
    writer.put(": "sv);
    writer.put(field.value());
    writer.put("\r\n"sv);
  }
  writer.put("Server: tailcut\r\n"sv);
  writer.put(request_id_field);
  writer.put(": "sv);
  writer.put_number(framing.request_id);
  writer.put("\r\n"sv);
  if (!framing.keep_alive && !http_1_0) writer.put("Connection: close\r\n"sv);
  if (framing.keep_alive && http_1_0) writer.put("Connection: keep-alive\r\n"sv);
  if (framing.length == Framing::Length::of_body) {
    writer.put("Content-Length: "sv);
    writer.put_number(response.body().size());
    writer.put("\r\n"sv);
  }
  writer.put("\r\n"sv);
  writer.finish();
  return head;
}

// Drops the first `count` bytes of a gather list.
void drop_front(std::array<boost::asio::const_buffer, 2>& wire, std::size_t count) {
  for (auto& buffer : wire) {
    const std::size_t dropped = std::min(count, buffer.size());
    buffer += dropped;
    count -= dropped;
  }
}

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
constexpr std::chrono::milliseconds departure_sweep_interval{20};

struct DepartureWatch {
  bool active = true;
  bool client_left = false;
};

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

void sweep_departures(Worker& worker);

}  // namespace

class ServerConnection {
 public:
  ServerConnection(ServerCore& core, std::size_t worker_index, tcp::socket socket,
                   std::shared_ptr<boost::asio::cancellation_signal> cancel)
      : core_{core},
        worker_{core.worker(worker_index)},
        worker_index_{worker_index},
        socket_{std::move(socket)},
        watchdog_{socket_, worker_.closer, shortest_timeout(core.options())},
        cancel_{std::move(cancel)} {
    boost::system::error_code ignored;
    remote_ = socket_.remote_endpoint(ignored);
    socket_.non_blocking(true, ignored);  // for the write at once in send()
    worker_.connections.insert(this);
  }
  ~ServerConnection() {
    leave_unwatched();
    worker_.connections.erase(this);
  }
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // Serves requests until the client leaves, a limit or a timeout is hit,
  // or the server shuts down; then closes the socket.
  awaitable<void> run();

  // Starts watching the client of a running handler (the departure sweep).
  void watch_departure() {
    unwatched_index_ = not_listed;
    departure_ = std::make_shared<DepartureWatch>();
    watch_for_departure(socket_, departure_, cancel_);
  }

  void close_if_idle() {
    boost::system::error_code ignored;
    if (phase_ == Phase::waiting_for_request) socket_.cancel(ignored);
  }

  void force_close() {
    force_closed_ = true;
    cancel_->emit(boost::asio::cancellation_type::terminal);
    worker_.closer.close(socket_, SocketCloser::How::graceful);
  }

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
  awaitable<void> parse(RequestParser& parser, ParseUntil until, boost::system::error_code& error);
  awaitable<std::size_t> read_some(boost::asio::mutable_buffer space,
                                   boost::system::error_code& error);
  // The handler is about to run / has run (see serve_request()).
  void enter_handler();
  Response handler_failed(const RequestLabel& label, std::uint64_t id, const std::string& failure);
  awaitable<bool> refuse(boost::system::error_code read_error);
  awaitable<bool> send(const Response& response, Framing framing, bool header_only);
  // How far send_at_once() got.
  struct SendProgress {
    std::size_t written = 0;
    bool over = false;  // sent, or failed (see sent)
    bool sent = false;
  };
  SendProgress send_at_once(const Response& response, const Framing& framing, bool header_only);
  awaitable<bool> send_rest(const Response& response, Framing framing, bool header_only,
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
  beast::flat_buffer buffer_;
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

awaitable<void> ServerConnection::run() {
  try {
    for (bool first = true; !core_.shutting_down(); first = false) {
      // Here rather than in a coroutine of its own: once per request.
      if (begin_wait_for_request(first)) {
        boost::system::error_code error;
        const std::size_t received = co_await read_some(buffer_.prepare(first_read_bytes), error);
        buffer_.commit(received);
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
// Returns false when the next request is there already (pipelined).
bool ServerConnection::begin_wait_for_request(bool first) {
  const ServerOptions& options = core_.options();
  if (buffer_.size() > 0) {
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

  RequestContext context;
  context.id = core_.next_request_id();
  context.received_at = arrival_time(last_receive_time_);
  context.remote = remote_;
  context.worker = worker_index_;
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
  std::string failure;
  {
    // The handler is done, however it ended: stop watching its client.
    struct StopWatching {
      ServerConnection& connection;
      ~StopWatching() { connection.stop_watching(); }
    } watching{*this};
    try {
      response = co_await worker_.router.dispatch(std::move(*request), context);
    } catch (const DropConnection&) {
      dropped_ = true;
      core_.count_request_handled();  // handled: by hanging up
    } catch (const std::exception& thrown) {
      failure = thrown.what();
      if (failure.empty()) failure = "an exception without a message";
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
  }
  if (client_left() || dropped_) co_return false;
  if (!failure.empty()) response = handler_failed(label, context.id, failure);
  const Framing framing = finish(response, facts, context.id, core_.shutting_down());
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

// Reads one request under the header and body timeouts (its own coroutine,
// so that the parser is gone while the handler runs). Sets `error` when the
// request could not be read.
awaitable<void> ServerConnection::read_request(std::optional<Request>& request,
                                               boost::system::error_code& error) {
  const ServerOptions& options = core_.options();
  RequestParser parser;
  set_limits(parser, options);

  co_await parse(parser, ParseUntil::header_done, error);
  HeadFields head;
  if (!error) head = check_head(parser, error);  // before the body and any 100 Continue
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
// reading a small request (which is usually in the buffer already).
awaitable<void> ServerConnection::parse(RequestParser& parser, ParseUntil until,
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
      buffer_.consume(used);
      if (error && error != bhttp::error::need_more) co_return;
      error = {};
      if (finished()) co_return;
      if (used > 0 && buffer_.size() > 0) continue;
    }
    const std::size_t room =
        std::clamp(buffer_.capacity() - buffer_.size(), min_read_bytes, max_read_bytes);
    const std::size_t received = co_await read_some(buffer_.prepare(room), error);
    buffer_.commit(received);
    if (error == boost::asio::error::eof) {
      if (!parser.got_some()) {
        error = bhttp::error::end_of_stream;
        co_return;
      }
      parser.put_eof(error);  // ends a message delimited by the close, or fails it
      if (!error && !finished()) error = bhttp::error::partial_message;
      co_return;
    }
    if (error) co_return;
  }
}

// One read into `space`. With count_kernel_wait, a recvmsg once the socket
// is readable, which notes the kernel's time stamp of the bytes; waiting
// first spares the recvmsg that would find nothing on a connection kept
// alive. Otherwise Asio's read.
awaitable<std::size_t> ServerConnection::read_some(boost::asio::mutable_buffer space,
                                                   boost::system::error_code& error) {
  if (!core_.options().count_kernel_wait) {
    co_return co_await socket_.async_read_some(space, redirect_error(use_awaitable, error));
  }
  for (;;) {  // until bytes, the end of the stream or an error; each turn waits for an event
    co_await socket_.async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, error));
    if (error) co_return 0;
    std::size_t received = 0;
    if (receive_noting_time(socket_.native_handle(), space, last_receive_time_, error, received)) {
      co_return received;
    }
  }
}

// Runs the router while watching the client, so that a client that goes
// away cancels its handler (an upstream call, say) at once. A handler's
// exception becomes a 500 and a log line.
void ServerConnection::enter_handler() {
  departure_.reset();
  enter_unwatched();
}

// A handler threw: logged (unless the connection is gone), answered 500.
Response ServerConnection::handler_failed(const RequestLabel& label, std::uint64_t id,
                                          const std::string& failure) {
  if (!force_closed_) {
    core_.log_error("request " + std::to_string(id) + " (" + std::string{label.text()} +
                    "): handler failed: " + failure);
  }
  return json_error(bhttp::status::internal_server_error, "internal_error",
                    "the server failed to handle the request");
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

// The head and body of a finished response, as written to the socket.
std::array<boost::asio::const_buffer, 2> wire_of(const std::string& head, const Response& response,
                                                 bool header_only) {
  return {boost::asio::buffer(head),
          header_only ? boost::asio::const_buffer{} : boost::asio::buffer(response.body())};
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
awaitable<bool> ServerConnection::send_rest(const Response& response, Framing framing,
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

namespace {

void sweep_departures(Worker& worker) {
  worker.departure_sweep_pending = false;
  std::vector<ServerConnection*> running;
  running.swap(worker.unwatched);
  for (ServerConnection* connection : running) connection->watch_departure();
  running.clear();
  if (worker.unwatched.empty()) worker.unwatched.swap(running);  // keeps the capacity
}

}  // namespace

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
