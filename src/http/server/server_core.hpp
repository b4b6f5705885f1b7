// ServerCore: the state the server's threads share (options, workers and their
// routers, acceptor, counters, shutdown flag) and the life cycle behind
// http::Server.
// Private to src/http/server.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../common/receive_time.hpp"
#include "../common/socket_closer.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::http::detail {

class ServerConnection;

// One worker thread, its io_context and the connections it serves.
struct Worker {
  // Live connections of this worker; touched only on its thread. Declared
  // before `io` so that it outlives the coroutine frames that io destroys.
  std::unordered_set<ServerConnection*> connections;
  // Those whose handler runs without a watch on the client yet; the
  // departure sweep watches them (departure_watch.cpp). Same rules as above.
  std::vector<ServerConnection*> unwatched;
  // This worker's routes (Server's router factory); before `io` too, for
  // the handlers' frames.
  Router router;
  // One thread runs it. With more than one worker, worker 0 registers each
  // socket it accepts for worker k in k's reactor, and the per-socket lock
  // orders that with k's handling of a stale event on the same (pooled)
  // descriptor state (ThreadSanitizer showed the race). A lone worker
  // registers its own sockets and touches them from its thread only: its
  // reactor skips that lock (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO; posts
  // from other threads stay locked).
  explicit Worker(std::size_t worker_count)
      : io{worker_count == 1 ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO : 1},
        closer{boost::asio::use_service<SocketCloser>(io)} {}
  boost::asio::io_context io;
  // Closes this worker's sockets off its event loop (socket_closer.hpp).
  SocketCloser& closer;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  boost::asio::steady_timer departure_sweep{io};
  bool departure_sweep_pending = false;
  std::thread thread;
};

enum class Lifecycle { created, running, stopping, stopped };

class ServerCore {
 public:
  ServerCore(ServerOptions options, const RouterFactory& make_router);
  // Destroys the workers' io_contexts (and with them any coroutine frame
  // left) before the rest. The worker threads must be joined.
  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  [[nodiscard]] const ServerOptions& options() const noexcept { return options_; }
  [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }
  [[nodiscard]] Worker& worker(std::size_t index) noexcept { return *workers_[index]; }

  // Opens the acceptor on worker 0; throws std::runtime_error on failure.
  void listen();
  [[nodiscard]] boost::asio::ip::tcp::acceptor& acceptor() noexcept { return *acceptor_; }
  [[nodiscard]] std::uint16_t port() const noexcept {
    return port_.load(std::memory_order_acquire);
  }

  [[nodiscard]] bool shutting_down() const noexcept {
    return shutting_down_.load(std::memory_order_acquire);
  }
  void begin_shutdown() noexcept { shutting_down_.store(true, std::memory_order_release); }

  [[nodiscard]] std::uint64_t next_request_id() noexcept {
    return last_request_id_.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  void log_error(std::string_view message) const;

  // Counters. Connections are admitted on worker 0 only, so checking the
  // limit and then admitting is not racy.
  [[nodiscard]] bool at_connection_limit() const noexcept {
    return connections_open_.load(std::memory_order_acquire) >= options_.max_connections;
  }
  void count_admitted() noexcept;
  void count_rejected() noexcept { connections_rejected_.fetch_add(1, std::memory_order_relaxed); }
  void count_request_handled() noexcept {
    requests_handled_.fetch_add(1, std::memory_order_relaxed);
  }
  void count_closed() noexcept;
  [[nodiscard]] ServerStats stats() const noexcept;

  // Waits until no connection is open or `deadline` passes; true if none is.
  bool wait_until_drained(std::chrono::steady_clock::time_point deadline);

  // Life cycle of http::Server, guarded by lifecycle_mutex.
  std::mutex lifecycle_mutex;
  std::condition_variable lifecycle_changed;
  Lifecycle lifecycle = Lifecycle::created;
  std::thread shutdown_thread;  // runs the shutdown; joined by ~Server

 private:
  ServerOptions options_;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::atomic<std::uint16_t> port_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::uint64_t> last_request_id_{0};

  std::atomic<std::uint64_t> connections_accepted_{0};
  std::atomic<std::uint64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_rejected_{0};
  std::atomic<std::uint64_t> requests_handled_{0};
  std::mutex drain_mutex_;
  std::condition_variable drained_;

  std::vector<std::unique_ptr<Worker>> workers_;
};

// Counts a connection as open for as long as it lives: created when it is
// admitted, moved into its coroutine, gone with the coroutine's frame even if
// the coroutine never ran.
class OpenConnection {
 public:
  explicit OpenConnection(ServerCore& core) noexcept : core_{&core} { core.count_admitted(); }
  OpenConnection(OpenConnection&& other) noexcept : core_{std::exchange(other.core_, nullptr)} {}
  OpenConnection& operator=(OpenConnection&&) = delete;
  ~OpenConnection() {
    if (core_ != nullptr) core_->count_closed();
  }
  [[nodiscard]] ServerCore& core() const noexcept { return *core_; }

 private:
  ServerCore* core_;
};

// Serves `socket` (already on worker `worker_index`'s executor) on that
// worker until the connection ends. Called on worker 0 by the acceptor.
void start_connection(OpenConnection open, std::size_t worker_index,
                      boost::asio::ip::tcp::socket socket);

// On `worker`'s thread: closes its connections that wait for a request
// (shutdown has begun).
void close_idle_connections(Worker& worker);

// On `worker`'s thread: closes all its connections and cancels their
// handlers (the shutdown grace has passed).
void force_close_connections(Worker& worker);

}  // namespace tailcut::http::detail
