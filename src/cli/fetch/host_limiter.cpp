// HostLimiter: one Limiter per origin in use, dropped when its last user goes.
#include "cli/fetch/host_limiter.hpp"

namespace tailcut::cli::fetch {

HostLimiter::Lease::Lease(HostLimiter* owner, std::string host)
    : owner_{owner}, host_{std::move(host)} {
  ++owner_->hosts_.at(host_).users;
}

HostLimiter::Lease::Lease(Lease&& other) noexcept
    : owner_{std::exchange(other.owner_, nullptr)},
      host_{std::move(other.host_)},
      permit_{std::move(other.permit_)} {
  other.permit_.reset();
}

HostLimiter::Lease& HostLimiter::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    host_ = std::move(other.host_);
    permit_ = std::move(other.permit_);
    other.permit_.reset();
  }
  return *this;
}

void HostLimiter::Lease::release() noexcept {
  if (owner_ == nullptr) return;
  permit_.reset();  // before the limiter it belongs to may go
  std::exchange(owner_, nullptr)->leave(host_);
}

HostLimiter::HostLimiter(boost::asio::any_io_executor executor, std::size_t per_host)
    : executor_{std::move(executor)}, per_host_{per_host} {}

boost::asio::awaitable<HostLimiter::Lease> HostLimiter::acquire(std::string host) {
  if (per_host_ == 0) co_return Lease{};
  auto [entry, inserted] = hosts_.try_emplace(host);
  if (inserted) entry->second.limiter = std::make_unique<async::Limiter>(executor_, per_host_);
  // Elements of an unordered_map keep their address across rehashing, and
  // this one stays while the lease counts as a user.
  async::Limiter& limiter = *entry->second.limiter;
  Lease lease{this, std::move(host)};
  lease.permit_.emplace(co_await limiter.acquire());
  co_return lease;
}

void HostLimiter::leave(const std::string& host) noexcept {
  const auto entry = hosts_.find(host);
  if (entry != hosts_.end() && --entry->second.users == 0) hosts_.erase(entry);
}

}  // namespace tailcut::cli::fetch
