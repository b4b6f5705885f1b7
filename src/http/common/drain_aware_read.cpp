// The system calls of drain_aware_read.hpp's reads.
#include "drain_aware_read.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace tailcut::http::detail {

bool enable_receive_times(int socket) noexcept {
  const int on = 1;
  return ::setsockopt(socket, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
}

namespace drain_aware {

namespace {

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

}  // namespace

bool receive(int descriptor, boost::asio::mutable_buffer buffer, ReceiveTime* received_at,
             boost::system::error_code& error, std::size_t& bytes) noexcept {
  for (;;) {
    ssize_t received = 0;
    if (received_at == nullptr) {
      received = ::recv(descriptor, buffer.data(), buffer.size(), 0);
    } else {
      iovec part{buffer.data(), buffer.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr message{};
      message.msg_iov = &part;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      received = ::recvmsg(descriptor, &message, 0);
      if (received > 0) *received_at = time_stamp_of(message);
    }
    if (received > 0) {
      error = {};
      bytes = static_cast<std::size_t>(received);
      return true;
    }
    if (received == 0) {
      error = boost::asio::error::eof;
      bytes = 0;
      return true;
    }
    const int number = errno;
    if (number == EINTR) continue;
    if (number == EAGAIN || number == EWOULDBLOCK) return false;
    error = boost::system::error_code{number, boost::asio::error::get_system_category()};
    bytes = 0;
    return true;
  }
}

}  // namespace drain_aware

}  // namespace tailcut::http::detail
