// http::Server: worker threads, the acceptor that spreads connections over
// the workers, and the graceful shutdown sequence.
#include "tailcut/http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <future>
#include <iostream>
#include <stdexcept>
#include <string>

#include "descriptor_table.hpp"
#include "server_core.hpp"

namespace tailcut::http {
namespace detail {
namespace {

using boost::asio::awaitable;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using tcp = boost::asio::ip::tcp;

// After the grace, how long force-closed connections get to unwind before the
// workers stop regardless.
constexpr std::chrono::seconds forced_close_unwind{2};
// Pause after an accept error (e.g. out of file descriptors) before retrying.
constexpr std::chrono::milliseconds accept_error_pause{50};

// The server running on this thread, if it is a worker thread.
thread_local const ServerCore* current_server = nullptr;

bool on_worker_thread(const ServerCore& core) noexcept { return current_server == &core; }

void validate(const ServerOptions& options) {
  const auto require = [](bool holds, const char* what) {
    if (!holds) throw std::invalid_argument{std::string{"tailcut::http::Server: "} + what};
  };
  require(options.threads >= 1, "threads must be at least 1");
  require(options.max_header_bytes >= 1 && options.max_header_bytes <= UINT32_MAX,
          "max_header_bytes must be in 1..4294967295");
  require(options.max_body_bytes >= 1, "max_body_bytes must be at least 1");
  require(options.max_connections >= 1, "max_connections must be at least 1");
  using std::chrono::milliseconds;
  require(options.header_timeout > milliseconds::zero(), "header_timeout must be positive");
  require(options.body_timeout > milliseconds::zero(), "body_timeout must be positive");
  require(options.idle_timeout > milliseconds::zero(), "idle_timeout must be positive");
  require(options.write_timeout > milliseconds::zero(), "write_timeout must be positive");
  require(options.shutdown_grace >= milliseconds::zero(), "shutdown_grace must not be negative");
}

std::string describe(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address().to_string();
  const auto port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

// Closes a socket accepted for `worker` but not served, on the worker's
// thread, where its state lives (the socket is registered in that worker's
// reactor).
void close_on_worker(Worker& worker, tcp::socket socket) {
  boost::asio::post(worker.io, [&worker, socket = std::move(socket)]() mutable {
    worker.closer.close(socket, SocketCloser::How::graceful);
  });
}

// The line that tells connections were refused at max_connections: at most
// one a second, telling how many more since the previous one (a flood of
// them must not flood the log). Used by the accept loop alone.
class RejectionLog {
 public:
  void note(const ServerCore& core) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_line_) {
      ++untold_;
      return;
    }
    next_line_ = now + std::chrono::seconds{1};
    std::string line = "connection refused: max_connections (" +
                       std::to_string(core.options().max_connections) + ") are open";
    if (untold_ > 0)
      line += "; " + std::to_string(untold_) + " more refused since the previous line";
    untold_ = 0;
    core.log_error(line);
  }

 private:
  std::chrono::steady_clock::time_point next_line_{};
  std::uint64_t untold_ = 0;
};

// Accepts connections on worker 0 until the acceptor closes, each onto the
// next worker's executor in turn.
awaitable<void> accept_connections(ServerCore& core) {
  auto& acceptor = core.acceptor();
  std::size_t next_worker = 0;
  RejectionLog rejections;
  while (acceptor.is_open()) {
    boost::asio::any_io_executor worker_executor = core.worker(next_worker).io.get_executor();
    boost::system::error_code error;
    tcp::socket socket =
        co_await acceptor.async_accept(worker_executor, redirect_error(use_awaitable, error));
    if (error == boost::asio::error::operation_aborted) continue;
    if (!error && core.shutting_down()) {
      close_on_worker(core.worker(next_worker), std::move(socket));
      continue;
    }
    if (error) {
      core.log_error("accept failed: " + error.message());
      boost::asio::steady_timer pause{co_await boost::asio::this_coro::executor,
                                      accept_error_pause};
      co_await pause.async_wait(redirect_error(use_awaitable, error));
      continue;
    }
    if (core.at_connection_limit()) {
      core.count_rejected();
      rejections.note(core);
      close_on_worker(core.worker(next_worker), std::move(socket));
      continue;
    }
    start_connection(OpenConnection{core}, next_worker, std::move(socket));
    next_worker = (next_worker + 1) % core.worker_count();
  }
}

struct AcceptLoopEnded {
  ServerCore* core;
  void operator()(const std::exception_ptr& error) const {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& exception) {
      core->log_error(std::string{"accept loop failed: "} + exception.what());
    }
  }
};

void run_worker(ServerCore& core, Worker& worker) {
  current_server = &core;
  for (;;) {
    try {
      worker.io.run();
      return;
    } catch (const std::exception& error) {
      core.log_error(std::string{"worker: unexpected exception: "} + error.what());
    }
  }
}

void stop_workers(ServerCore& core) {
  for (std::size_t i = 0; i < core.worker_count(); ++i) {
    core.worker(i).work.reset();
    core.worker(i).io.stop();
  }
  for (std::size_t i = 0; i < core.worker_count(); ++i) {
    if (core.worker(i).thread.joinable()) core.worker(i).thread.join();
  }
}

// Closes the acceptor on worker 0 and waits (until `deadline`) until it is
// closed: from then on no connection is admitted, so the drain below is final.
void close_acceptor(ServerCore& core, std::chrono::steady_clock::time_point deadline) {
  auto closed = std::make_shared<std::promise<void>>();
  auto closed_future = closed->get_future();
  boost::asio::post(core.worker(0).io, [&core, closed] {
    boost::system::error_code ignored;
    core.acceptor().close(ignored);
    closed->set_value();
  });
  closed_future.wait_until(deadline);
}

// The shutdown sequence of Server::stop(), on its own thread.
void shut_down(ServerCore& core) {
  const auto grace_end = std::chrono::steady_clock::now() + core.options().shutdown_grace;
  close_acceptor(core, grace_end);
  for (std::size_t i = 0; i < core.worker_count(); ++i) {
    Worker& worker = core.worker(i);
    boost::asio::post(worker.io, [&worker] { close_idle_connections(worker); });
  }
  if (!core.wait_until_drained(grace_end)) {
    core.log_error("shutdown grace passed: closing the connections still open");
    for (std::size_t i = 0; i < core.worker_count(); ++i) {
      Worker& worker = core.worker(i);
      boost::asio::post(worker.io, [&worker] { force_close_connections(worker); });
    }
    core.wait_until_drained(std::chrono::steady_clock::now() + forced_close_unwind);
  }
  stop_workers(core);
  {
    std::lock_guard lock{core.lifecycle_mutex};
    core.lifecycle = Lifecycle::stopped;
  }
  core.lifecycle_changed.notify_all();
}

}  // namespace

ServerCore::ServerCore(ServerOptions options, const RouterFactory& make_router)
    : options_{std::move(options)}, port_{options_.port} {
  validate(options_);
  workers_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(options_.threads));
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->router = make_router(WorkerContext{i, workers_[i]->io.get_executor()});
  }
}

ServerCore::~ServerCore() {
  acceptor_.reset();
  // In index order: a socket accepted for worker k may sit in worker 0's
  // accept loop frame, so worker 0 goes first.
  for (auto& worker : workers_) worker.reset();
}

void ServerCore::listen() {
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(options_.address, error);
  if (error) {
    throw std::runtime_error{"cannot listen on \"" + options_.address + "\": not an IP address"};
  }
  const tcp::endpoint endpoint{address, options_.port};
  const auto fail = [&endpoint](const char* step, const boost::system::error_code& failure) {
    throw std::runtime_error{"cannot listen on " + describe(endpoint) + ": " + step +
                             " failed: " + failure.message()};
  };
  acceptor_.emplace(workers_.front()->io);
  if (acceptor_->open(endpoint.protocol(), error); error) fail("open", error);
  if (acceptor_->set_option(tcp::acceptor::reuse_address{true}, error); error) {
    fail("setsockopt", error);
  }
  // Accepted sockets inherit it: each read of a request then says when its
  // bytes arrived (RequestContext::received_at). Without it, a request
  // counts from its read.
  if (options_.count_kernel_wait) enable_receive_times(acceptor_->native_handle());
  if (acceptor_->bind(endpoint, error); error) fail("bind", error);
  if (acceptor_->listen(tcp::acceptor::max_listen_connections, error); error) fail("listen", error);
  port_.store(acceptor_->local_endpoint().port(), std::memory_order_release);
}

void ServerCore::log_error(std::string_view message) const {
  if (options_.error_log) {
    options_.error_log(message);
  } else {
    std::cerr << "tailcut http server: " + std::string{message} + "\n";
  }
}

void ServerCore::count_admitted() noexcept {
  connections_accepted_.fetch_add(1, std::memory_order_relaxed);
  connections_open_.fetch_add(1, std::memory_order_acq_rel);
}

void ServerCore::count_closed() noexcept {
  if (connections_open_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Taking the lock orders this notification after a waiter's check.
    std::lock_guard lock{drain_mutex_};
    drained_.notify_all();
  }
}

bool ServerCore::wait_until_drained(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock{drain_mutex_};
  return drained_.wait_until(
      lock, deadline, [this] { return connections_open_.load(std::memory_order_acquire) == 0; });
}

ServerStats ServerCore::stats() const noexcept {
  return ServerStats{
      .connections_accepted = connections_accepted_.load(std::memory_order_relaxed),
      .connections_open = connections_open_.load(std::memory_order_relaxed),
      .connections_rejected = connections_rejected_.load(std::memory_order_relaxed),
      .requests_handled = requests_handled_.load(std::memory_order_relaxed),
  };
}

}  // namespace detail

Server::Server(ServerOptions options, Router router)
    : Server{std::move(options), [&router](const WorkerContext&) { return router; }} {}

Server::Server(ServerOptions options, const RouterFactory& make_router)
    : core_{std::make_unique<detail::ServerCore>(std::move(options), make_router)} {}

Server::~Server() {
  if (detail::on_worker_thread(*core_)) {
    core_->log_error("a Server was destroyed on one of its own worker threads");
    std::terminate();
  }
  try {
    stop();
    if (core_->shutdown_thread.joinable()) core_->shutdown_thread.join();
  } catch (const std::exception& error) {
    // Worker threads may still run and use *this: nothing safe is left to do.
    core_->log_error(std::string{"cannot stop the server: "} + error.what());
    std::terminate();
  }
}

void Server::start() {
  std::lock_guard lock{core_->lifecycle_mutex};
  if (core_->lifecycle != detail::Lifecycle::created) {
    throw std::logic_error{"tailcut::http::Server::start: the server was already started"};
  }
  // Each connection may hold a few more descriptors (a gateway's upstream
  // calls): room for four per connection.
  if (core_->options().reserve_descriptor_table) {
    detail::reserve_descriptor_table(core_->options().max_connections * 4 + 64);
  }
  core_->listen();
  boost::asio::co_spawn(core_->worker(0).io, detail::accept_connections(*core_),
                        detail::AcceptLoopEnded{core_.get()});
  try {
    for (std::size_t i = 0; i < core_->worker_count(); ++i) {
      detail::Worker& worker = core_->worker(i);
      worker.thread = std::thread{detail::run_worker, std::ref(*core_), std::ref(worker)};
    }
  } catch (...) {
    core_->begin_shutdown();
    detail::stop_workers(*core_);
    core_->lifecycle = detail::Lifecycle::stopped;
    throw;
  }
  core_->lifecycle = detail::Lifecycle::running;
}

std::uint16_t Server::port() const noexcept { return core_->port(); }

std::size_t Server::worker_count() const noexcept { return core_->worker_count(); }

boost::asio::any_io_executor Server::worker_executor(std::size_t index) const {
  if (index >= core_->worker_count()) {
    throw std::out_of_range{"tailcut::http::Server::worker_executor: no worker " +
                            std::to_string(index)};
  }
  return core_->worker(index).io.get_executor();
}

void Server::stop() {
  {
    std::lock_guard lock{core_->lifecycle_mutex};
    switch (core_->lifecycle) {
      case detail::Lifecycle::created:
        core_->lifecycle = detail::Lifecycle::stopped;
        core_->lifecycle_changed.notify_all();
        return;
      case detail::Lifecycle::running:
        core_->lifecycle = detail::Lifecycle::stopping;
        core_->begin_shutdown();  // before returning: responses from now on close
        core_->shutdown_thread = std::thread{detail::shut_down, std::ref(*core_)};
        break;
      case detail::Lifecycle::stopping:
      case detail::Lifecycle::stopped:
        break;
    }
  }
  if (!detail::on_worker_thread(*core_)) wait();
}

void Server::wait() {
  if (detail::on_worker_thread(*core_)) {
    throw std::logic_error{
        "tailcut::http::Server::wait: called on a worker thread of the server, "
        "which would wait for itself"};
  }
  std::unique_lock lock{core_->lifecycle_mutex};
  core_->lifecycle_changed.wait(lock,
                                [this] { return core_->lifecycle == detail::Lifecycle::stopped; });
}

ServerStats Server::stats() const noexcept { return core_->stats(); }

}  // namespace tailcut::http
