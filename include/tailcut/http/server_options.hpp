// ServerOptions: what the HTTP server listens on and the limits it enforces on
// clients (sizes, timeouts, connections, shutdown grace).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace tailcut::http {

// Receives one line per unexpected event (a handler that threw, an accept
// error). Called from any worker thread, concurrently: must be thread-safe.
using ServerErrorLog = std::function<void(std::string_view message)>;

// One worker per core, at least one.
[[nodiscard]] inline std::size_t default_worker_count() noexcept {
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal, no host name
  std::uint16_t port = 0;             // 0: any free port, see Server::port()

  std::size_t threads = default_worker_count();  // worker threads, >= 1

  std::size_t max_header_bytes = 16 * std::size_t{1024};  // request line + fields; above: 431
  std::size_t max_body_bytes = 1024 * std::size_t{1024};  // above: 413

  // From the connection opening, or from the first byte of a later request
  // on a kept-alive connection, until the full header is in; then closed.
  std::chrono::milliseconds header_timeout = std::chrono::seconds{10};
  // From the end of the header until the full body is in; then closed.
  std::chrono::milliseconds body_timeout = std::chrono::seconds{30};
  // A kept-alive connection with no request for this long is closed.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds{60};
  // Sending one response to a client that does not read; then closed.
  std::chrono::milliseconds write_timeout = std::chrono::seconds{30};

  // Connections open at once; one more is accepted and closed at once.
  std::size_t max_connections = 10'000;

  // RequestContext::received_at counts the time a request waited in the
  // kernel before it was read, from the kernel's receive time stamps
  // (SO_TIMESTAMPNS, set on the listening socket; every read waits for
  // readiness and reads with recvmsg). Off: received_at is the end of the
  // read.
  bool count_kernel_wait = true;

  // start() grows the whole process's descriptor table once, to room for
  // four descriptors per connection (about 8 bytes each), rather than let
  // the kernel double it under load: with several threads each doubling
  // stalls the thread that opens a socket for milliseconds (an RCU grace
  // period). Off by default since it changes the process, not the server
  // alone; the gateway turns it on.
  bool reserve_descriptor_table = false;

  // How long stop() lets requests in flight finish before it closes their
  // connections and cancels their handlers.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds{30};

  // Empty: lines go to std::cerr.
  ServerErrorLog error_log;
};

}  // namespace tailcut::http
