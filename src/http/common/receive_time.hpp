// When the bytes a read takes reached this host: the kernel's receive time
// stamp of the last of them (SO_TIMESTAMPNS, read with recvmsg). The server
// counts a request's wait in the kernel with it (ServerOptions::
// count_kernel_wait): a worker busy for a while leaves requests waiting in
// its sockets, and their deadlines run meanwhile. Where the system has no
// such stamps, reads carry none and the wait counts from the read.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <optional>

namespace tailcut::http::detail {

// When the last bytes of a read reached this host, by the system clock (the
// kernel's clock for time stamps); unset when the kernel gave none.
using ReceiveTime = std::optional<std::chrono::system_clock::time_point>;

// Has the kernel time-stamp what a socket receives. Set on a listening
// socket, its accepted sockets inherit it. False if the kernel would not.
bool enable_receive_times(int socket) noexcept;

// One non-blocking receive into `buffer` on `socket`, noting in
// `received_at` the time stamp of its bytes (reset when there is none).
// False when the socket has nothing to read yet; true with the bytes in
// `bytes`, or with `error` set (eof at the end of the stream).
bool receive_noting_time(int socket, boost::asio::mutable_buffer buffer, ReceiveTime& received_at,
                         boost::system::error_code& error, std::size_t& bytes) noexcept;

}  // namespace tailcut::http::detail
