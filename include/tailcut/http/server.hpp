// Server: the HTTP/1.1 server core of the gateway and the upstream simulator.
//
//   http::Server server{options, std::move(router)};
//   server.start();                // binds, starts the worker threads
//   ... server.port() ...
//   server.stop();                 // graceful, from any thread
//
// Or with one router per worker, whose handlers use that worker's own
// objects (Seastar's sharded<T>, Envoy's thread-local slots):
//
//   http::Server server{options, [&](const http::WorkerContext& worker) {
//     auto& shard = shards.emplace_back(worker.executor);
//     return routes_of(shard);
//   }};
//
// Design (docs/http-server.md): one io_context per worker thread, nothing
// shared between them. Worker 0 also runs the acceptor, which hands each new
// connection to the next worker in turn; the connection, its requests and
// their handlers then stay on that worker. Keep-alive and pipelining are
// supported; every response gets Content-Length, `Server: tailcut` and
// `X-Request-Id`.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "tailcut/http/router.hpp"
#include "tailcut/http/server_options.hpp"

namespace tailcut::http {

// A snapshot of the server's counters since start().
struct ServerStats {
  std::uint64_t connections_accepted = 0;  // admitted (rejected ones not included)
  std::uint64_t connections_open = 0;      // admitted and not yet closed
  std::uint64_t connections_rejected = 0;  // closed at once: max_connections reached
  std::uint64_t requests_handled = 0;      // responses sent or being sent, 400s... included
};

// The worker a router is made for (see Server's constructor).
struct WorkerContext {
  std::size_t worker;  // its index, as in RequestContext::worker
  // Its executor: objects made on it (an upstream session) are served by
  // this worker's thread, the only one that runs its router's handlers.
  boost::asio::any_io_executor executor;
};

// Makes the router of one worker.
using RouterFactory = std::function<Router(const WorkerContext&)>;

namespace detail {
class ServerCore;
}

class Server {
 public:
  // Creates the workers (their io_contexts) without starting them. Throws
  // std::invalid_argument when an option is out of range (zero threads,
  // limits or timeouts). Every worker gets a copy of `router`: its handlers
  // run concurrently on all workers.
  Server(ServerOptions options, Router router);
  // The same, with one router per worker: `make_router` is called once for
  // each worker, in index order, on the calling thread, before this
  // constructor returns (so before any worker runs). Worker k's router runs
  // only on k's thread: its handlers may use single-threaded objects of
  // their own without locks. What make_router throws propagates (after the
  // options are checked).
  Server(ServerOptions options, const RouterFactory& make_router);
  // Stops as stop() does and waits for it. Must not run on a worker thread.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on options.address:options.port, then starts the
  // worker threads. Throws std::runtime_error naming the address and the
  // reason when the address is invalid or bind/listen fails (the server is
  // then not started and may be destroyed). Throws std::logic_error when
  // called twice or after stop().
  void start();

  // The port listened on (the one picked by the system for port 0), once
  // start() has returned; options.port before.
  [[nodiscard]] std::uint16_t port() const noexcept;

  // Number of worker threads; RequestContext::worker is below it.
  [[nodiscard]] std::size_t worker_count() const noexcept;

  // The executor of worker `index`, to run code on that worker (post,
  // co_spawn), e.g. to set up per-worker objects for the handlers. Usable
  // from construction on: work posted before start() runs once the worker
  // starts; work posted after stop() never runs. Throws std::out_of_range.
  [[nodiscard]] boost::asio::any_io_executor worker_executor(std::size_t index) const;

  // Graceful shutdown, idempotent, callable from any thread:
  // 1. stops accepting (new connections are refused) and closes the
  //    connections that wait for a request;
  // 2. lets requests in progress finish: their responses are sent with
  //    `Connection: close`, then their connections close;
  // 3. after options.shutdown_grace, cancels the handlers still running
  //    and answers their requests 503 (json_error code "shutting_down",
  //    `Connection: close`), and closes the other connections;
  // 4. stops and joins the worker threads.
  // From a non-worker thread it returns when all is done. From a worker
  // thread (a handler) it only starts the shutdown and returns at once;
  // another thread waits for the end with wait() or the destructor. Before
  // start() it just marks the server stopped.
  void stop();

  // Blocks until the server is stopped (by stop() from anywhere). Throws
  // std::logic_error when called on a worker thread, where it would wait
  // for itself.
  void wait();

  // Thread-safe; the counters are read one by one, not as one atomic set.
  [[nodiscard]] ServerStats stats() const noexcept;

 private:
  std::unique_ptr<detail::ServerCore> core_;
};

}  // namespace tailcut::http
