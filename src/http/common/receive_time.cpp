// The system calls of receive_time.hpp: setsockopt and recvmsg.
#include "receive_time.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/error.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace tailcut::http::detail {

namespace {

#if defined(SO_TIMESTAMPNS) && defined(SCM_TIMESTAMPNS)

constexpr bool has_receive_times = true;

// The time stamp among `message`'s control messages, if there is one.
ReceiveTime time_stamp_of(msghdr& message) {
  for (cmsghdr* control = CMSG_FIRSTHDR(&message); control != nullptr;
       control = CMSG_NXTHDR(&message, control)) {
    if (control->cmsg_level == SOL_SOCKET && control->cmsg_type == SCM_TIMESTAMPNS) {
      timespec stamp{};
      std::memcpy(&stamp, CMSG_DATA(control), sizeof stamp);
      return std::chrono::system_clock::time_point{
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds{stamp.tv_sec} + std::chrono::nanoseconds{stamp.tv_nsec})};
    }
  }
  return std::nullopt;
}

#else

constexpr bool has_receive_times = false;

ReceiveTime time_stamp_of(msghdr& /*message*/) { return std::nullopt; }

#endif

}  // namespace

bool enable_receive_times([[maybe_unused]] int socket) noexcept {
  if constexpr (has_receive_times) {
    const int on = 1;
    return ::setsockopt(socket, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
  }
  return false;
}

bool receive_noting_time(int socket, boost::asio::mutable_buffer buffer, ReceiveTime& received_at,
                         boost::system::error_code& error, std::size_t& bytes) noexcept {
  bytes = 0;
  for (;;) {
    iovec part{buffer.data(), buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t received = ::recvmsg(socket, &message, MSG_DONTWAIT);
    if (received > 0) {
      received_at = time_stamp_of(message);
      error = {};
      bytes = static_cast<std::size_t>(received);
      return true;
    }
    if (received == 0) {
      error = buffer.size() == 0 ? boost::system::error_code{} : boost::asio::error::eof;
      return true;
    }
    const int number = errno;
    if (number == EINTR) continue;  // a signal: the same call again
    if (number == EAGAIN || number == EWOULDBLOCK) return false;
    error = boost::system::error_code{number, boost::asio::error::get_system_category()};
    return true;
  }
}

}  // namespace tailcut::http::detail
