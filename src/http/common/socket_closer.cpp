// SocketCloser: closes sockets on a thread of its own (see the header).
#include "socket_closer.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <system_error>
#include <utility>

namespace tailcut::http::detail {

namespace {
constexpr int lowest_priority = 19;  // nice
constexpr std::size_t max_queued = 4096;
}  // namespace

SocketCloser::SocketCloser(boost::asio::execution_context& context) : service{context} {}

SocketCloser::~SocketCloser() { shutdown(); }

void SocketCloser::close(boost::asio::ip::tcp::socket& socket, How how) noexcept {
  if (!socket.is_open()) return;
  boost::system::error_code error;
  const int descriptor = socket.release(error);
  if (error) {
    // Not released (it stays the socket's): closed here, as close() would.
    if (how == How::reset) socket.set_option(boost::asio::socket_base::linger{true, 0}, error);
    socket.close(error);
    return;
  }
  const Pending pending{descriptor, how};
  try {
    std::unique_lock lock{mutex_};
    // Bounded: a closer starved of CPU (it runs niced) must not let
    // descriptors pile up until the process runs out of them; past the
    // bound the caller closes its own.
    if (!stopping_ && queue_.size() < max_queued) {
      if (!thread_.joinable()) thread_ = std::thread{&SocketCloser::run, this};
      const bool was_empty = queue_.empty();
      queue_.push_back(pending);
      lock.unlock();
      if (was_empty) wake_.notify_one();
      return;
    }
  } catch (const std::exception&) {
    // No memory or no thread: closed here instead.
  }
  close_now(pending);
}

void SocketCloser::wait_until_idle() {
  std::unique_lock lock{mutex_};
  idle_.wait(lock, [this] { return queue_.empty() && !closing_batch_; });
}

void SocketCloser::shutdown() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SocketCloser::run() {
  ::pthread_setname_np(::pthread_self(), "tailcut-closer");  // as top and perf show it
  // Background work: the event loops come first when the CPUs are busy (a
  // client leaving with thousands of calls in flight is when they are).
  // Linux gives each thread its own nice value: this lowers the closer's
  // thread alone, not the process that runs the server or the client.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), lowest_priority);
  std::vector<Pending> batch;
  std::unique_lock lock{mutex_};
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and all closed
    batch.swap(queue_);
    closing_batch_ = true;
    lock.unlock();
    for (const Pending& pending : batch) close_now(pending);
    batch.clear();
    lock.lock();
    closing_batch_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

void SocketCloser::close_now(const Pending& pending) noexcept {
  if (pending.how == How::reset) {
    const ::linger reset{1, 0};
    ::setsockopt(pending.descriptor, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  } else {
    ::shutdown(pending.descriptor, SHUT_RDWR);
  }
  ::close(pending.descriptor);
}

}  // namespace tailcut::http::detail
