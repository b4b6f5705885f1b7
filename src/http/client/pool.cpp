// ConnectionPool: leases, the limits, idle expiry, and the FIFO hand-over of
// freed slots to waiting requests.
#include "pool.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tailcut/async/error.hpp"

namespace tailcut::http::detail {

namespace asio = boost::asio;

struct ConnectionPool::Waiter {
  Waiter(const asio::any_io_executor& executor, HostEntry& host_entry, Reuse reuse_mode)
      : wakeup{executor}, host{&host_entry}, reuse{reuse_mode} {}
  asio::steady_timer wakeup;
  HostEntry* host;
  Reuse reuse;
  std::optional<Lease> granted;
  std::list<Waiter*>::iterator position;
  bool queued = false;
};

ConnectionPool::Lease::Lease(ConnectionPool* pool, HostEntry* host,
                             std::unique_ptr<Connection> connection)
    : pool_{pool},
      host_{host},
      connection_{std::move(connection)},
      reused_{connection_ != nullptr} {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_{std::exchange(other.pool_, nullptr)},
      host_{other.host_},
      connection_{std::move(other.connection_)},
      reused_{other.reused_} {}

ConnectionPool::Lease::~Lease() {
  if (pool_) pool_->give_back(*host_, std::move(connection_), false);
}

void ConnectionPool::Lease::attach(std::unique_ptr<Connection> connection) {
  if (!connection) return;  // the opening failed: the lease stays without one
  connection_ = std::move(connection);
  reused_ = false;
  ++pool_->opened_;
}

void ConnectionPool::Lease::served() noexcept {
  if (pool_ && reused_) ++pool_->reused_count_;
}

void ConnectionPool::Lease::release_to_pool() noexcept {
  if (pool_) std::exchange(pool_, nullptr)->give_back(*host_, std::move(connection_), true);
}

ConnectionPool::ConnectionPool(asio::any_io_executor executor, PoolLimits limits)
    : executor_{std::move(executor)}, limits_{limits} {}

ConnectionPool::~ConnectionPool() = default;

std::optional<ConnectionPool::Lease> ConnectionPool::try_acquire(const Origin& origin,
                                                                 Reuse reuse) {
  const auto now = Clock::now();
  drop_expired_idle(now);  // first: it may erase entries, never the one taken below
  return try_take(host_entry(origin), reuse, now);
}

asio::awaitable<void> ConnectionPool::acquire(std::optional<Lease>& lease, async::Failure& failure,
                                              const Origin& origin, Deadline deadline, Reuse reuse,
                                              const std::string& url, std::stop_token stop) {
  if (auto taken = try_acquire(origin, reuse)) {
    lease.emplace(std::move(*taken));
    co_return;
  }
  HostEntry& host = host_entry(origin);

  Waiter waiter{executor_, host, reuse};
  waiter.wakeup.expires_at(deadline.at);
  waiter.position = waiters_.insert(waiters_.end(), &waiter);
  waiter.queued = true;
  ++host.waiting;
  // Leaves the queue however we leave (co_await throws when the caller was
  // cancelled before it: the one exception left on this path, rare).
  struct LeaveQueue {
    ConnectionPool& pool;
    Waiter& waiter;
    ~LeaveQueue() { pool.leave_queue(waiter); }
  } leave_queue{*this, waiter};
  if (stop.stop_requested()) {
    failure = async::Failure::cancelled();
    co_return;
  }
  const std::stop_callback stop_waiting{stop, [&waiter] { waiter.wakeup.cancel(); }};
  boost::system::error_code error;
  co_await waiter.wakeup.async_wait(asio::redirect_error(asio::use_awaitable, error));
  // A grant wins over a timeout or cancellation of the same turn; a stop of
  // that turn gives it back unused (its connection stays in the pool).
  if (waiter.granted) {
    if (stop.stop_requested()) {
      waiter.granted->release_to_pool();
      failure = async::Failure::cancelled();
      co_return;
    }
    lease.emplace(std::move(*waiter.granted));
    co_return;
  }
  if (error == asio::error::operation_aborted) {
    failure = async::Failure::cancelled();
    co_return;
  }
  failure = timeout_failure(
      deadline, "waiting for a free connection to " + origin.authority() + " (" + url + "; " +
                    std::to_string(in_use_) + " connections in use, limits " +
                    std::to_string(limits_.total) + " total, " + std::to_string(limits_.per_host) +
                    " per host, 0 = none)");
}

ConnectionPool::HostEntry& ConnectionPool::host_entry(const Origin& origin) {
  if (last_host_ == nullptr || *last_origin_ != origin) {
    auto& [key, host] = *hosts_.try_emplace(origin.scheme + "://" + origin.authority()).first;
    host.key = &key;
    last_host_ = &host;  // nodes do not move
    last_origin_ = origin;
  }
  return *last_host_;
}

void ConnectionPool::forget_if_unused(HostEntry& host) noexcept {
  if (!unused(host)) return;
  if (last_host_ == &host) {
    last_host_ = nullptr;
    last_origin_.reset();
  }
  // By iterator: erase(key) would read a key that lives in the erased node.
  hosts_.erase(hosts_.find(*host.key));
}

void ConnectionPool::leave_queue(Waiter& waiter) noexcept {
  if (!waiter.queued) return;  // granted: serve_waiters counted it out
  waiters_.erase(waiter.position);
  waiter.queued = false;
  --waiter.host->waiting;
  forget_if_unused(*waiter.host);
}

std::optional<ConnectionPool::Lease> ConnectionPool::try_take(HostEntry& host, Reuse reuse,
                                                              Clock::time_point now) {
  if (reuse != Reuse::fresh_only) {
    // Most recently used first: the likeliest to be still open.
    const auto trusted_since =
        reuse == Reuse::idle_first_retryable ? now - trusted_idle_time : Clock::time_point::max();
    while (!host.idle.empty()) {
      IdleConnection idle = std::move(host.idle.back());
      host.idle.pop_back();
      --idle_;
      const bool trusted = idle.since > trusted_since;
      if (!trusted && !idle.connection->looks_reusable()) continue;  // closed by the server
      ++host.in_use;
      ++in_use_;
      return Lease{this, &host, std::move(idle.connection)};
    }
  }
  if (limits_.total != 0 && in_use_ >= limits_.total) return std::nullopt;
  if (limits_.per_host != 0 && host.in_use >= limits_.per_host) return std::nullopt;
  // Room for one more in use; make room among the open ones by closing idle.
  if (limits_.per_host != 0 && host.in_use + host.idle.size() >= limits_.per_host) {
    close_oldest_idle(host);
  }
  if (limits_.total != 0 && in_use_ + idle_ >= limits_.total) close_oldest_idle_anywhere(host);
  ++host.in_use;
  ++in_use_;
  return Lease{this, &host, nullptr};
}

bool ConnectionPool::expired(const IdleConnection& idle, Clock::time_point now) const noexcept {
  return now - idle.since >= limits_.keepalive_timeout;
}

void ConnectionPool::drop_expired_idle(Clock::time_point now) noexcept {
  if (idle_ == 0) return;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    HostEntry& host = it->second;
    ++it;  // before host may be erased
    // Oldest first: the expired ones are a prefix, usually empty.
    const auto first_kept =
        std::find_if(host.idle.begin(), host.idle.end(),
                     [&](const IdleConnection& idle) { return !expired(idle, now); });
    if (first_kept == host.idle.begin()) continue;
    idle_ -= static_cast<std::size_t>(first_kept - host.idle.begin());
    host.idle.erase(host.idle.begin(), first_kept);
    forget_if_unused(host);
  }
}

void ConnectionPool::close_oldest_idle(HostEntry& host) noexcept {
  if (host.idle.empty()) return;
  host.idle.erase(host.idle.begin());
  --idle_;
}

void ConnectionPool::close_oldest_idle_anywhere(const HostEntry& keep) noexcept {
  HostEntry* oldest = nullptr;
  for (auto& [key, host] : hosts_) {
    if (host.idle.empty()) continue;
    if (!oldest || host.idle.front().since < oldest->idle.front().since) oldest = &host;
  }
  if (!oldest) return;
  close_oldest_idle(*oldest);
  if (oldest != &keep) forget_if_unused(*oldest);
}

void ConnectionPool::give_back(HostEntry& host, std::unique_ptr<Connection> connection,
                               bool reusable) noexcept {
  --host.in_use;
  --in_use_;
  const auto now = Clock::now();
  // Never a closed socket: one stopped from outside may look reusable.
  if (connection && reusable && !closed_ && connection->is_open()) {
    host.idle.push_back(IdleConnection{std::move(connection), now});
    ++idle_;
  }
  connection.reset();  // closes it unless pooled
  forget_if_unused(host);
  drop_expired_idle(now);
  serve_waiters(now);
}

void ConnectionPool::serve_waiters(Clock::time_point now) noexcept {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    // Full, and nothing idle to hand over: no waiter can be served (without
    // this, each freed slot cost a try_take per waiter: hundreds of hedged
    // attempts queued behind the limit made it quadratic).
    if (limits_.total != 0 && in_use_ >= limits_.total && idle_ == 0) return;
    Waiter& waiter = **it;
    auto lease = try_take(*waiter.host, waiter.reuse, now);
    if (!lease) {
      ++it;
      continue;
    }
    waiter.granted.emplace(std::move(*lease));
    waiter.queued = false;
    --waiter.host->waiting;  // its lease keeps the entry
    it = waiters_.erase(it);
    waiter.wakeup.cancel();
  }
}

PoolStats ConnectionPool::stats() const noexcept {
  return PoolStats{.connections_opened = opened_,
                   .connections_reused = reused_count_,
                   .idle = idle_,
                   .in_use = in_use_,
                   .waiting = waiters_.size(),
                   .origins = hosts_.size()};
}

void ConnectionPool::close() noexcept {
  closed_ = true;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    HostEntry& host = it->second;
    ++it;
    host.idle.clear();
    forget_if_unused(host);
  }
  idle_ = 0;
}

}  // namespace tailcut::http::detail
