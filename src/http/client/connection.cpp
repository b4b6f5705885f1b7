// Connection: DNS, TCP connect, TLS handshake, sending a request and reading
// its response with Beast's parser, each step under a watchdog deadline.
#include "connection.hpp"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>

#include "../common/socket_closer.hpp"
#include "../common/socket_watchdog.hpp"
#include "response_reader.hpp"
#include "tailcut/async/error.hpp"

namespace tailcut::http::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// The longest a connection's watchdog sleeps while its deadline is further
// away (SocketWatchdog): bounds the wake-ups of a connection that waits long.
constexpr std::chrono::seconds watchdog_check_interval{5};

auto use_awaitable_into(error_code& error) {
  return asio::redirect_error(asio::use_awaitable, error);
}

// The peer went away: what a stale keep-alive connection fails with.
bool is_disconnect(const error_code& error) {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe || error == asio::error::connection_aborted ||
         error == ssl::error::stream_truncated;
}

bool is_end_of_stream(const error_code& error) {
  return error == asio::error::eof || error == ssl::error::stream_truncated;
}

ExchangeResult exchange_failed(async::Failure failure) {
  return ExchangeResult{nullptr, std::move(failure)};
}

}  // namespace

Deadline total_deadline(std::optional<std::chrono::milliseconds> total) {
  if (!total) return Deadline{};
  const auto now = Clock::now();
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  const auto at = *total >= room ? Clock::time_point::max()
                                 : now + std::max(*total, std::chrono::milliseconds{0});
  return Deadline{at, ErrorKind::total_timeout, *total};
}

Deadline earliest(const Deadline& total, std::optional<std::chrono::milliseconds> phase,
                  ErrorKind phase_kind) {
  Deadline phase_deadline = total_deadline(phase);
  phase_deadline.kind = phase_kind;
  return phase_deadline.at < total.at ? phase_deadline : total;
}

async::Failure timeout_failure(const Deadline& deadline, const std::string& what) {
  return client_failure(deadline.kind, what + " timed out (" +
                                           std::string{to_string(deadline.kind)} + " of " +
                                           std::to_string(deadline.budget.count()) + " ms)");
}

struct Connection::Impl {
  Impl(const asio::any_io_executor& executor, const Origin& origin, ssl::context* tls_context,
       std::shared_ptr<async::detail::SharedTimer> session_timers)
      : peer{origin.authority()},
        plain{tls_context ? std::nullopt : std::optional<tcp::socket>{std::in_place, executor}},
        tls{tls_context ? std::make_unique<ssl::stream<tcp::socket>>(executor, *tls_context)
                        : nullptr},
        // Looked up now rather than in close(), which may run as the context
        // is being destroyed (and would pay the service registry's lock).
        closer{asio::use_service<SocketCloser>(asio::query(executor, asio::execution::context))},
        timers{std::move(session_timers)},
        watchdog{socket(), closer, *timers, watchdog_check_interval, SocketCloser::How::reset} {}
  ~Impl() { close(); }

  tcp::socket& socket() noexcept { return tls ? tls->next_layer() : *plain; }

  // A connection closed in the middle of an exchange (its request was
  // cancelled, or timed out) is reset rather than shut down: its answer is
  // unwanted, and a reset leaves no TIME_WAIT behind. At thousands of hedged
  // calls a second, the TIME_WAITs of graceful closes would take up the
  // local ports, and every connect() would search longer for a free one.
  // The reset is sent by the context's SocketCloser: when a client leaves
  // with thousands of calls in flight, the resets of their attempts do not
  // stall the event loop.
  void close() noexcept {
    if (mid_exchange) {
      closer.close(socket(), SocketCloser::How::reset);
      return;
    }
    error_code ignored;
    socket().close(ignored);
  }

  // Closes the socket when `deadline` passes, which aborts whatever runs on
  // it; the operation then learns from timed_out() that it timed out. Moving
  // the deadline is a store (SocketWatchdog): a call's exchange on a pooled
  // connection costs no timer operation.
  void arm(const Deadline& deadline) {
    armed = deadline;
    if (deadline.at == Clock::time_point::max()) {
      watchdog.expires_never();
    } else if (deadline.passed()) {
      passed_when_armed = true;
      close();
    } else {
      watchdog.expires_at(deadline.at);
    }
  }

  void disarm() noexcept {
    armed = Deadline{};
    watchdog.expires_never();
  }

  [[nodiscard]] bool is_armed() const noexcept { return armed.at != Clock::time_point::max(); }
  [[nodiscard]] bool timed_out() const noexcept { return passed_when_armed || watchdog.fired(); }

  // After a failed operation: the timeout or the cancellation that caused
  // it, if any (null otherwise). The deadline that fired is the one still
  // armed: the socket closed under the operation that just failed.
  [[nodiscard]] async::Failure interruption(const error_code& error,
                                            const std::string& what) const {
    if (timed_out() && is_armed()) return timeout_failure(armed, what);
    if (error == asio::error::operation_aborted) return async::Failure::cancelled();
    return {};
  }
  // Whether interruption() would return a failure.
  [[nodiscard]] bool interrupted(const error_code& error) const noexcept {
    return (timed_out() && is_armed()) || error == asio::error::operation_aborted;
  }

  // A request usually fits in the socket's send buffer: on plain TCP it is
  // written here by one system call, without an asynchronous operation or a
  // coroutine (the socket is in non-blocking mode, see connect_any, so this
  // never waits). Returns true when the write is over (done, or failed:
  // see wait_error); false when write_rest() must write from `written` on.
  bool write_at_once(const std::string& bytes) {
    written = 0;
    if (tls) return false;
    written = plain->write_some(asio::buffer(bytes), wait_error);
    if (!wait_error && written == bytes.size()) return true;
    if (wait_error && wait_error != asio::error::would_block) return true;
    wait_error = {};
    return false;
  }

  asio::awaitable<void> write_rest(const std::string& bytes) {
    if (tls) {
      co_await asio::async_write(*tls, asio::buffer(bytes), use_awaitable_into(wait_error));
    } else {
      co_await asio::async_write(*plain, asio::buffer(bytes) + written,
                                 use_awaitable_into(wait_error));
    }
  }

  // A TLS read into `buffer`; its byte count goes to tls_read_bytes.
  asio::awaitable<void> tls_read_some() {
    tls_read_bytes = co_await tls->async_read_some(buffer.prepare(read_chunk_bytes),
                                                   use_awaitable_into(wait_error));
  }

  void after_read(std::size_t bytes) {
    buffer.commit(bytes);
    if (bytes == read_chunk_bytes && read_chunk_bytes < max_read_chunk_bytes) read_chunk_bytes *= 2;
  }

  static constexpr std::size_t max_read_chunk_bytes = 64 * 1024;

  // The steps of an exchange (Connection::begin_exchange ...), below.
  void after_send(ExchangeResult& result);
  void read_available(ExchangeResult& result);
  void after_read_of(std::size_t bytes, ExchangeResult& result);
  void complete(ExchangeResult& result, bool ended_by_eof);
  void end_exchange(ExchangeResult& result, ExchangeResult ending);
  void forget_exchange() noexcept;
  // The reader of this exchange's response, made at its first byte.
  ResponseReader& response_reader() {
    if (!reader) reader = std::make_unique<ResponseReader>(request->limits, peer, *request->url);
    return *reader;
  }

  // Stopped from outside: the socket closes under whatever is pending,
  // which then fails as cancelled (interruption()).
  struct CloseOnStop {
    Impl* impl;
    void operator()() const noexcept { impl->close(); }
  };
  enum class Stage { none, sending, reading };

  std::string peer;  // the origin's authority, for messages
  std::optional<tcp::socket> plain;
  // Held apart: a TLS stream is several hundred bytes that plain HTTP
  // connections would otherwise carry.
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  SocketCloser& closer;  // the context's: resets this socket off the event loop
  // The session's (a TLS goodbye may outlive it): the watchdog's wake-ups.
  std::shared_ptr<async::detail::SharedTimer> timers;
  SocketWatchdog watchdog;
  Deadline armed;  // the last arm()'s; none (at max) after disarm()
  boost::beast::flat_buffer buffer;
  std::size_t read_chunk_bytes = 2 * 1024;
  // The exchange in progress.
  const ExchangeRequest* request = nullptr;
  std::optional<std::stop_callback<CloseOnStop>> stop_watch;
  std::unique_ptr<ResponseReader> reader;  // from the first response byte
  error_code wait_error;                   // of the step awaited last
  std::size_t written = 0;                 // bytes of the request sent
  std::size_t tls_read_bytes = 0;
  Stage stage = Stage::none;
  bool reused = false;             // an exchange had run on it before this one
  bool received_any = false;       // a response byte came
  bool answered_before = false;    // an exchange on it got its response
  bool passed_when_armed = false;  // arm() was given a deadline already passed
  bool mid_exchange = false;       // a request was sent and its answer is not all read
};

namespace {

// A lookup that the caller may abandon: getaddrinfo cannot be interrupted,
// so on a deadline or cancellation the caller goes on at once and the
// lookup finishes alone in Asio's resolver thread.
struct Lookup {
  explicit Lookup(const asio::any_io_executor& executor) : resolver{executor}, wakeup{executor} {}
  tcp::resolver resolver;
  asio::steady_timer wakeup;
  tcp::resolver::results_type results;
  error_code error;
  bool done = false;
};

// The opening's steps below take their arguments by reference: open()
// awaits each at once and holds what they refer to. Its connections are
// opened by the thousand at once when a gateway's calls hedge together, and
// copies in each step's frame would add up.

// The endpoint of an origin whose host is an address: no lookup needed.
bool endpoint_of_address(const Origin& origin, std::vector<tcp::endpoint>& endpoints) {
  error_code not_an_address;
  const auto address = asio::ip::make_address(origin.host, not_an_address);
  if (not_an_address) return false;
  endpoints.emplace_back(address, origin.port);
  return true;
}

// The addresses of origin.host (a name) into `endpoints`, or why not into
// `failure`.
asio::awaitable<void> resolve(const asio::any_io_executor& executor, const Origin& origin,
                              const Deadline& deadline, const std::string& url,
                              std::vector<tcp::endpoint>& endpoints, async::Failure& failure,
                              const std::stop_token& stop) {
  const std::string what = "DNS lookup of " + origin.host + " (" + url + ")";
  // RFC 6761: names under .invalid never resolve; answer without asking.
  if (origin.host.ends_with(".invalid") || origin.host == "invalid") {
    failure =
        client_failure(ErrorKind::dns, what + " failed: .invalid names never resolve (RFC 6761)");
    co_return;
  }
  auto lookup = std::make_shared<Lookup>(executor);
  lookup->wakeup.expires_at(deadline.at);
  lookup->resolver.async_resolve(
      origin.host, std::to_string(origin.port), tcp::resolver::numeric_service,
      [lookup](const error_code& error, tcp::resolver::results_type results) {
        lookup->error = error;
        lookup->results = std::move(results);
        lookup->done = true;
        lookup->wakeup.cancel();
      });
  error_code wait_error;
  const std::stop_callback stop_waiting{stop, [&lookup] { lookup->wakeup.cancel(); }};
  if (!stop.stop_requested()) co_await lookup->wakeup.async_wait(use_awaitable_into(wait_error));
  if (!lookup->done) {
    lookup->resolver.cancel();
    failure = wait_error == asio::error::operation_aborted || stop.stop_requested()
                  ? async::Failure::cancelled()
                  : timeout_failure(deadline, what);
    co_return;
  }
  if (lookup->error) {
    failure = client_failure(ErrorKind::dns, what + " failed: " + lookup->error.message());
    co_return;
  }
  for (const auto& entry : lookup->results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) {
    failure = client_failure(ErrorKind::dns, what + " returned no address");
  }
}

// Connects to the first endpoint that accepts, or says why not in `failure`.
asio::awaitable<void> connect_any(Connection::Impl& impl,
                                  const std::vector<tcp::endpoint>& endpoints,
                                  const Deadline& deadline, const std::string& url,
                                  async::Failure& failure, const std::stop_token& stop) {
  const std::string what = "connect to " + impl.peer + " (" + url + ")";
  impl.arm(deadline);
  error_code error;
  const std::stop_callback stop_connecting{stop, [&impl] { impl.close(); }};
  for (const auto& endpoint : endpoints) {
    if (impl.timed_out() || stop.stop_requested()) break;
    tcp::socket& socket = impl.socket();
    error_code ignored;
    socket.close(ignored);
    socket.open(endpoint.protocol(), error);
    if (error) continue;
    co_await socket.async_connect(endpoint, use_awaitable_into(error));
    if (!error) {
      socket.set_option(tcp::no_delay{true}, ignored);
      socket.non_blocking(true, ignored);  // for the write at once in Impl::write
      co_return;
    }
    if (error == asio::error::operation_aborted) break;
  }
  if (stop.stop_requested()) {
    failure = async::Failure::cancelled();
    co_return;
  }
  if ((failure = impl.interruption(error, what))) co_return;
  if (error == asio::error::connection_refused) {
    failure = client_failure(ErrorKind::connect_refused,
                             "connect to " + impl.peer + " refused (" + url + ")");
    co_return;
  }
  failure = client_failure(ErrorKind::connect_failed, what + " failed: " + error.message());
}

std::string describe_tls_failure(ssl::stream<tcp::socket>& stream, const error_code& error) {
  std::string description = error.message();
  const long verify_result = SSL_get_verify_result(stream.native_handle());
  if (verify_result != X509_V_OK) {
    description += std::string{": "} + X509_verify_cert_error_string(verify_result);
    description +=
        "; to trust a private CA, give its certificate (SessionOptions::ca_file; --ca-file on the "
        "command line)";
  }
  return description;
}

// The TLS handshake, or why it failed in `failure`.
asio::awaitable<void> handshake(Connection::Impl& impl, const std::string& host,
                                const Deadline& deadline, const std::string& url,
                                async::Failure& failure, const std::stop_token& stop) {
  ssl::stream<tcp::socket>& stream = *impl.tls;
  SSL* native = stream.native_handle();
  error_code not_an_address;
  (void)asio::ip::make_address(host, not_an_address);
  const bool host_is_address = !not_an_address;
  // SNI carries names only (RFC 6066), never an address literal.
  if (!host_is_address) SSL_set_tlsext_host_name(native, host.c_str());
  // OpenSSL checks the certificate's names itself: its errors then say
  // "hostname mismatch", which ssl::host_name_verification's do not.
  if (SSL_get_verify_mode(native) != SSL_VERIFY_NONE) {
    X509_VERIFY_PARAM* parameters = SSL_get0_param(native);
    const int accepted = host_is_address ? X509_VERIFY_PARAM_set1_ip_asc(parameters, host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(parameters, host.c_str(), 0);
    if (accepted != 1) {
      failure = client_failure(ErrorKind::tls, "cannot verify host name " + host);
      co_return;
    }
  }
  impl.arm(deadline);
  error_code error;
  const std::stop_callback stop_handshake{stop, [&impl] { impl.close(); }};
  if (stop.stop_requested()) {
    failure = async::Failure::cancelled();
    co_return;
  }
  co_await stream.async_handshake(ssl::stream_base::client, use_awaitable_into(error));
  if (!error) co_return;
  if (stop.stop_requested()) {
    failure = async::Failure::cancelled();
    co_return;
  }
  const std::string what = "TLS handshake with " + impl.peer + " (" + url + ")";
  if ((failure = impl.interruption(error, what))) co_return;
  failure =
      client_failure(ErrorKind::tls, what + " failed: " + describe_tls_failure(stream, error));
}

}  // namespace

namespace {

// How long a TLS goodbye may take before the socket just closes.
constexpr std::chrono::seconds tls_goodbye_time{1};

// Sends close_notify on an idle TLS connection, so that the server sees an
// orderly end rather than a truncated stream, then lets the socket close
// (when `impl` goes). One-way: the server's own close_notify is not waited
// for (RFC 8446 6.1 allows closing at once), so this takes one write.
asio::awaitable<void> say_tls_goodbye(std::shared_ptr<Connection::Impl> impl) {
  impl->arm(Deadline{Clock::now() + tls_goodbye_time, ErrorKind::total_timeout,
                     std::chrono::duration_cast<std::chrono::milliseconds>(tls_goodbye_time)});
  SSL_set_shutdown(impl->tls->native_handle(), SSL_RECEIVED_SHUTDOWN);
  error_code ignored;
  co_await impl->tls->async_shutdown(use_awaitable_into(ignored));
}

}  // namespace

Connection::Connection(std::shared_ptr<Impl> impl) : impl_{std::move(impl)} {}

// A TLS connection closed between exchanges says goodbye first (in the
// background); one closed in the middle of an exchange is reset (Impl::close).
Connection::~Connection() {
  impl_->forget_exchange();  // it may outlive the caller's request and body charge
  if (!impl_->tls || impl_->mid_exchange || !impl_->socket().is_open()) return;
  try {
    asio::co_spawn(impl_->socket().get_executor(), say_tls_goodbye(impl_), asio::detached);
  } catch (...) {
    // Best effort: without the goodbye the socket simply closes.
  }
}

asio::awaitable<std::unique_ptr<Connection>> Connection::open(
    asio::any_io_executor executor, Origin origin, ssl::context* tls,
    std::shared_ptr<async::detail::SharedTimer> timers, Deadline deadline, std::string url,
    async::Failure& failure, std::stop_token stop) {
  auto impl =
      std::make_shared<Impl>(executor, origin, origin.is_tls() ? tls : nullptr, std::move(timers));
  std::vector<tcp::endpoint> endpoints;
  if (!endpoint_of_address(origin, endpoints)) {
    co_await resolve(executor, origin, deadline, url, endpoints, failure, stop);
    if (failure) co_return nullptr;
  }
  co_await connect_any(*impl, endpoints, deadline, url, failure, stop);
  if (failure) co_return nullptr;
  if (impl->tls) {
    co_await handshake(*impl, origin.host, deadline, url, failure, stop);
    if (failure) co_return nullptr;
  }
  impl->disarm();
  co_return std::unique_ptr<Connection>{new Connection{std::move(impl)}};
}

namespace {

// The failures below are built outside the exchange's coroutine: GCC gives
// every temporary of a coroutine its own room in the frame, which each
// exchange in flight holds (the strings of these messages cost ~600 B per
// call in flight when they were built in place).

// What a failed write of the request ends the exchange with.
ExchangeResult failed_send(const Connection::Impl& io, const error_code& error, bool reused,
                           const std::string& url) {
  if (async::Failure interrupted = io.interruption(error, "sending the request to " + url)) {
    return exchange_failed(std::move(interrupted));
  }
  if (reused && is_disconnect(error)) return ExchangeResult{};  // closed while idle: retry
  return exchange_failed(client_failure(
      ErrorKind::connection_closed,
      "sending the request to " + io.peer + " failed: " + error.message() + " (" + url + ")"));
}

// Whether a failed read is the end of a response delimited by EOF.
bool ends_the_response(const Connection::Impl& io, const error_code& error, bool reused,
                       bool received_any, ResponseReader& reader) {
  if (io.interrupted(error)) return false;
  if (reused && !received_any && is_disconnect(error)) return false;
  return is_end_of_stream(error) && reader.finish_at_eof();
}

// What a failed read ends the exchange with (not the end of the response).
ExchangeResult failed_read(const Connection::Impl& io, const error_code& error, bool reused,
                           bool received_any, const ResponseReader& reader,
                           const std::string& url) {
  if (async::Failure interrupted = io.interruption(error, "reading the response of " + url)) {
    return exchange_failed(std::move(interrupted));
  }
  if (reused && !received_any && is_disconnect(error)) return ExchangeResult{};  // retry
  return exchange_failed(
      client_failure(ErrorKind::connection_closed,
                     io.peer + " closed the connection before the response was complete (" +
                         reader.progress() + ", " + error.message() + ") (" + url + ")"));
}

// What a response that is not HTTP, or over a limit, ends the exchange with.
ExchangeResult failed_response(const ResponseReader& reader) {
  return exchange_failed(reader.error());
}

}  // namespace

void Connection::begin_exchange(const ExchangeRequest& request, ExchangeResult& result) {
  Impl& io = *impl_;
  io.request = &request;
  io.stage = Impl::Stage::sending;
  io.stop_watch.emplace(request.stop, Impl::CloseOnStop{&io});
  io.reused = io.answered_before;
  io.received_any = false;
  io.wait_error = {};
  // A previous exchange's body (a redirect's, a stale connection's) is gone.
  if (request.limits.body_charge != nullptr) request.limits.body_charge->release();
  io.arm(request.total);
  io.mid_exchange = true;
  if (io.write_at_once(*request.wire)) io.after_send(result);
}

bool Connection::exchange_running() const noexcept { return impl_->stage != Impl::Stage::none; }

asio::awaitable<void> Connection::wait_for_exchange() {
  Impl& io = *impl_;
  if (io.stage == Impl::Stage::sending) {
    return io.write_rest(*io.request->wire);
  }
  if (io.tls) return io.tls_read_some();
  return io.plain->async_wait(tcp::socket::wait_read, use_awaitable_into(io.wait_error));
}

void Connection::continue_exchange(ExchangeResult& result) {
  Impl& io = *impl_;
  if (io.stage == Impl::Stage::sending) {
    io.after_send(result);
  } else if (io.tls) {
    io.after_read_of(io.tls_read_bytes, result);
  } else {
    io.read_available(result);
  }
}

// The request is sent (or failed): the response is read next.
void Connection::Impl::after_send(ExchangeResult& result) {
  if (wait_error) {
    end_exchange(result, failed_send(*this, wait_error, reused, *request->url));
    return;
  }
  stage = Stage::reading;
  buffer.clear();
  arm(earliest(request->total, request->sock_read, ErrorKind::read_timeout));
}

// Plain TCP, the socket readable (or its wait failed): reads what is there
// until the socket has no more (its readiness is signalled on an edge) or
// the exchange is over.
void Connection::Impl::read_available(ExchangeResult& result) {
  while (stage == Stage::reading) {
    std::size_t bytes = 0;
    if (!wait_error) {
      bytes = plain->read_some(buffer.prepare(read_chunk_bytes), wait_error);
      if (wait_error == asio::error::would_block) {
        wait_error = {};
        return;  // wait again
      }
    }
    after_read_of(bytes, result);
  }
}

// `bytes` were read, or the read failed (wait_error): the reader is fed,
// and the exchange ends or reads on under a new read deadline.
void Connection::Impl::after_read_of(std::size_t bytes, ExchangeResult& result) {
  after_read(bytes);
  if (wait_error) {
    if (!ends_the_response(*this, wait_error, reused, received_any, response_reader())) {
      end_exchange(result,
                   failed_read(*this, wait_error, reused, received_any, *reader, *request->url));
      return;
    }
    complete(result, true);
    return;
  }
  received_any = true;
  switch (response_reader().feed(buffer)) {
    case ResponseReader::Fed::complete:
      complete(result, false);
      return;
    case ResponseReader::Fed::failed:
      end_exchange(result, failed_response(*reader));
      return;
    case ResponseReader::Fed::need_more:
      arm(earliest(request->total, request->sock_read, ErrorKind::read_timeout));
      return;
  }
}

// The whole response is read.
void Connection::Impl::complete(ExchangeResult& result, bool ended_by_eof) {
  disarm();
  // Stopped as the last read completed: the stop closed the socket under a
  // response already read, which is dropped with the connection.
  if (request->stop.stop_requested()) {
    end_exchange(result, exchange_failed(async::Failure::cancelled()));
    return;
  }
  mid_exchange = false;
  ExchangeResult ending{std::make_unique<RawResponse>(reader->take()), {}};
  ending.response->reusable = ending.response->reusable && !ended_by_eof && buffer.size() == 0;
  answered_before = true;
  end_exchange(result, std::move(ending));
}

void Connection::Impl::end_exchange(ExchangeResult& result, ExchangeResult ending) {
  result = std::move(ending);
  forget_exchange();
}

// A body not taken goes with the reader, and its charge with it.
void Connection::Impl::forget_exchange() noexcept {
  stage = Stage::none;
  reader.reset();
  stop_watch.reset();
  request = nullptr;
}

bool Connection::is_open() const noexcept { return impl_->socket().is_open(); }

bool Connection::looks_reusable() const noexcept {
  tcp::socket& socket = impl_->socket();
  if (!socket.is_open()) return false;
  char byte = 0;
  const auto peeked = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0: the server closed it; > 0: bytes nobody asked for.
  return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace tailcut::http::detail
