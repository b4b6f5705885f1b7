// Scripted HTTP/1.1 servers on 127.0.0.1 for the HTTP client's tests. Each
// request gets the Reply the test's script returns, which may misbehave on
// purpose: never answer, stall mid-body, close early, redirect, chunk, lie.
// The server runs on the test's io_context (same thread as the client), so
// its counters can be read between steps without locks.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/client_test_tls.hpp"

namespace tailcut::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t connection_index = 0;     // in accept order, from 0
  std::size_t index_on_connection = 0;  // 0 for a connection's first request

  // The first header named `name` (case-insensitive).
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

// Bytes written after a pause.
struct ReplyPart {
  std::chrono::milliseconds delay{0};
  std::string bytes;
};

enum class AfterReply {
  keep_alive,  // wait for the next request on the connection
  close,       // close the connection (without saying so in the response)
  hang,        // send nothing more; wait until the client closes
};

struct Reply {
  std::vector<ReplyPart> parts;
  AfterReply after = AfterReply::keep_alive;

  // A complete response with Content-Length; `extra_headers` are raw
  // "Name: value\r\n" lines. `version` "HTTP/1.0" makes an HTTP/1.0 reply.
  static Reply text(int status, std::string body, std::string extra_headers = {},
                    std::string version = "HTTP/1.1");
  static Reply redirect(int status, std::string location);
  // A chunked response, one chunk per element, `gap` between them.
  static Reply chunked(std::vector<std::string> chunks, std::chrono::milliseconds gap);
  // Exactly `bytes`, then `after`.
  static Reply raw(std::string bytes, AfterReply after);
  // Nothing at all; the connection stays open until the client closes it.
  static Reply no_answer();
  // Closes the connection at once without answering.
  static Reply drop();

  // This reply, waiting `delay` before sending anything.
  [[nodiscard]] Reply delayed(std::chrono::milliseconds delay) &&;
};

using RequestScript = std::function<Reply(const ReceivedRequest&)>;

struct ServerCounters {
  std::size_t connections_accepted = 0;
  std::size_t connections_open = 0;
  std::size_t max_connections_open = 0;
  std::size_t requests = 0;
  std::size_t in_flight = 0;  // received and not completely answered
  std::size_t max_in_flight = 0;
  std::size_t closed_by_client = 0;  // the server read EOF or a reset
  std::size_t reset_by_client = 0;   // of those, the resets
  // Of those, over TLS: the ones that ended with the client's close_notify
  // (a clean end of stream) rather than a truncated stream.
  std::size_t tls_close_notify = 0;
  std::size_t closed_by_server = 0;
};

namespace detail {
struct ServerState;
}

class ClientTestServer {
 public:
  // Listens on 127.0.0.1, a free port, and serves on `io`. With `tls`,
  // speaks TLS with that certificate. Several servers may share `counters`.
  ClientTestServer(boost::asio::io_context& io, RequestScript script,
                   const TestCertificate* tls = nullptr,
                   std::shared_ptr<ServerCounters> counters = nullptr);
  // Stops accepting and closes every connection.
  ~ClientTestServer();
  ClientTestServer(const ClientTestServer&) = delete;
  ClientTestServer& operator=(const ClientTestServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // "http://127.0.0.1:<port><path>" (https with TLS).
  [[nodiscard]] std::string url(std::string_view path = "/") const;
  [[nodiscard]] const ServerCounters& counters() const;
  [[nodiscard]] const std::vector<ReceivedRequest>& requests() const;

 private:
  std::shared_ptr<detail::ServerState> state_;
};

// A listener on 127.0.0.1 that never accepts and whose accept queue is
// full, so the kernel drops further SYNs: a connect to it hangs.
class SaturatedListener {
 public:
  explicit SaturatedListener(boost::asio::io_context& io);
  ~SaturatedListener();
  SaturatedListener(const SaturatedListener&) = delete;
  SaturatedListener& operator=(const SaturatedListener&) = delete;

  [[nodiscard]] std::string url() const;

 private:
  struct Sockets;
  std::unique_ptr<Sockets> sockets_;
};

// A port on 127.0.0.1 where nothing listens (bound, read, released).
[[nodiscard]] std::uint16_t closed_port();

// Runs `io` until `done()` holds. False when `limit` passed first.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds{20});

// Runs `operation` on `io` until it completes; returns its value or
// rethrows its exception. Throws std::runtime_error after `limit`.
template <typename T>
T run_to_completion(boost::asio::io_context& io, boost::asio::awaitable<T> operation,
                    std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  struct Outcome {
    bool done = false;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
  };
  auto outcome = std::make_shared<Outcome>();
  boost::asio::co_spawn(io, std::move(operation),
                        [outcome](std::exception_ptr error, auto... value) {
                          outcome->done = true;
                          outcome->error = error;
                          if constexpr (std::is_void_v<T>) {
                            outcome->value.emplace(true);
                          } else if (!error) {
                            outcome->value.emplace(std::move(value)...);
                          }
                        });
  if (!run_until(
          io, [&] { return outcome->done; }, limit)) {
    throw std::runtime_error{"the coroutine did not finish within the test's time limit"};
  }
  if (outcome->error) std::rethrow_exception(outcome->error);
  if constexpr (!std::is_void_v<T>) return std::move(*outcome->value);
}

}  // namespace tailcut::test
