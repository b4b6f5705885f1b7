// Connection: DNS, TCP connect, TLS handshake and the close, each step under
// a watchdog deadline. Its exchanges (a request and its response): exchange.cpp.
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

#include "connection_impl.hpp"
#include "tailcut/async/error.hpp"

namespace tailcut::http::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

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

// The opening's steps below take their arguments by reference, as open()
// does: it awaits each at once, and what they refer to outlives it.

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

// Why no endpoint accepted: the last one's `error`, or the deadline.
async::Failure connect_failure(const Connection::Impl& impl, const Origin& origin,
                               const error_code& error, const std::string& url) {
  const std::string what = "connect to " + origin.authority() + " (" + url + ")";
  if (async::Failure interrupted = impl.interruption(error, what)) return interrupted;
  if (error == asio::error::connection_refused) {
    return client_failure(ErrorKind::connect_refused,
                          "connect to " + origin.authority() + " refused (" + url + ")");
  }
  return client_failure(ErrorKind::connect_failed, what + " failed: " + error.message());
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
asio::awaitable<void> handshake(Connection::Impl& impl, const Origin& origin,
                                const Deadline& deadline, const std::string& url,
                                async::Failure& failure, const std::stop_token& stop) {
  ssl::stream<tcp::socket>& stream = *impl.tls;
  const std::string& host = origin.host;
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
  const std::string what = "TLS handshake with " + origin.authority() + " (" + url + ")";
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
    const asio::any_io_executor& executor, const Origin& origin, ssl::context* tls,
    const std::shared_ptr<async::detail::SharedTimer>& timers, const Deadline& deadline,
    const std::string& url, async::Failure& failure, const std::stop_token& stop) {
  auto impl = std::make_shared<Impl>(executor, origin.is_tls() ? tls : nullptr, timers);
  std::vector<tcp::endpoint> endpoints;
  if (!endpoint_of_address(origin, endpoints)) {
    co_await resolve(executor, origin, deadline, url, endpoints, failure, stop);
    if (failure) co_return nullptr;
  }
  // The first endpoint that accepts. Here rather than in a coroutine of its
  // own: a gateway's hedged calls open connections by the thousand at once.
  impl->arm(deadline);
  error_code error;
  bool connected = false;
  {
    const std::stop_callback stop_connecting{stop, [&impl] { impl->close(); }};
    for (const auto& endpoint : endpoints) {
      if (impl->timed_out() || stop.stop_requested()) break;
      tcp::socket& socket = impl->socket();
      socket.close(error);  // a previous endpoint's; its error does not matter
      socket.open(endpoint.protocol(), error);
      if (error) continue;
      co_await socket.async_connect(endpoint, use_awaitable_into(error));
      if (!error) {
        // Their errors do not matter either.
        socket.set_option(tcp::no_delay{true}, error);
        socket.non_blocking(true, error);  // for the write at once (Impl::write_at_once)
        connected = true;
        break;
      }
      if (error == asio::error::operation_aborted) break;
    }
  }
  if (!connected) {
    failure = stop.stop_requested() ? async::Failure::cancelled()
                                    : connect_failure(*impl, origin, error, url);
    co_return nullptr;
  }
  if (impl->tls) {
    co_await handshake(*impl, origin, deadline, url, failure, stop);
    if (failure) co_return nullptr;
  }
  impl->disarm();
  co_return std::unique_ptr<Connection>{new Connection{std::move(impl)}};
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
