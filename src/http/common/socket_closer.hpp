// SocketCloser: closes sockets on a thread of its own, so that an event loop
// does not pay for the kernel's side of a close.
//
// Closing a TCP socket sends a FIN or a reset, and on loopback the kernel
// also runs the peer's handling of it in the closing thread: 10-20 µs a
// socket on this project's machines. A call abandoned by its client closes
// up to four (the client's and three hedged attempts'), so 2,000 clients
// leaving at once stalled each worker for tens of milliseconds, and the
// deadlines of the calls still running on it passed late. Here the worker
// only takes the descriptor out of its reactor (one epoll_ctl) and queues
// it; the closer's thread closes it soon after. Redis closes files on a
// background thread for the same reason.
//
// One per execution context, as an Asio service (like the resolver's own
// thread); the thread starts with the first close. At most 4,096
// descriptors wait in its queue (the thread runs niced: starved of CPU, it
// must not make the process run out of descriptors); past that the caller
// closes its own. The service's shutdown, when the context is destroyed,
// closes what is still queued and joins it.
#pragma once

#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace tailcut::http::detail {

class SocketCloser final : public boost::asio::execution_context::service {
 public:
  static inline boost::asio::execution_context::id id;

  enum class How {
    graceful,  // shutdown, then close: a FIN after any data still unsent
    reset,     // SO_LINGER 0: a reset, unsent data dropped, no TIME_WAIT
  };

  explicit SocketCloser(boost::asio::execution_context& context);
  ~SocketCloser() override;
  SocketCloser(const SocketCloser&) = delete;
  SocketCloser& operator=(const SocketCloser&) = delete;

  // Ends `socket` at once, as close() would: its pending operations complete
  // with operation_aborted and it is no longer open. Its descriptor is then
  // closed on the closer's thread. A socket not open is left as it is.
  void close(boost::asio::ip::tcp::socket& socket, How how) noexcept;

  // Blocks until every descriptor queued so far is closed (for tests).
  void wait_until_idle();

 private:
  struct Pending {
    int descriptor;
    How how;
  };

  void shutdown() override;
  void run();
  static void close_now(const Pending& pending) noexcept;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::vector<Pending> queue_;
  bool closing_batch_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tailcut::http::detail
