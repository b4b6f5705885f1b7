// A read of a plain TCP socket that remembers when it emptied the socket.
//
// Asio starts every read with a recv, before it waits for the socket to be
// readable: right for a socket with data waiting, a wasted system call for
// one without. A proxy reads each socket right after it wrote to it (the
// client's next request, the upstream's answer), when nothing can be there
// yet: two recvs per call fail with EAGAIN, about 0.3 µs of kernel time
// each here, which nginx does not pay (it remembers that its last read
// emptied the socket).
//
// Asio's epoll reactor has that memory too, per socket: a read that reports
// itself "done and exhausted" makes the next read skip the first try and
// wait for readiness, until the next readiness event. Asio's own receive
// reports that only at the end of the stream. This one also reports it when
// the bytes received did not fill the buffer: on a stream socket, the
// receive queue was then empty. It is decided inside the reactor's call
// (under the socket's lock), so data arriving after the recv raises a new
// readiness event, which resets the memory: nothing is ever left unread.
//
// Otherwise it is socket.async_read_some(buffer, token) for a single buffer:
// the same allocation of the operation through the handler's allocator, the
// same per-operation cancellation (any type), the same completion through
// the handler's executor. It uses Asio 1.81's detail namespace (the epoll
// reactor and the socket's implementation); tests/http/drain_aware_read_test
// checks it there. Plain sockets only: TLS streams read as they did.
//
// It can also say when the bytes it read reached this host (the kernel's
// receive time stamp of the last of them, SO_TIMESTAMPNS): the server
// counts a request's wait in the kernel with it, at no system call of its
// own (a getsockopt(TCP_INFO) per request cost 0.35 µs here, and counted in
// jiffies).
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

#if !defined(BOOST_ASIO_HAS_EPOLL) || defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#error "drain_aware_read.hpp is written for Asio's epoll reactor"
#endif

namespace tailcut::http::detail {

// The reactor of the execution context a socket belongs to. Look it up once
// per connection: the lookup takes the service registry's lock.
inline boost::asio::detail::reactor& reactor_of(const boost::asio::any_io_executor& executor) {
  return boost::asio::use_service<boost::asio::detail::reactor>(
      boost::asio::query(executor, boost::asio::execution::context));
}

// Has the kernel time-stamp what a socket receives (SO_TIMESTAMPNS), for
// the reads given a ReceiveTime. Set on a listening socket, its accepted
// sockets inherit it. False if the kernel would not.
bool enable_receive_times(int socket) noexcept;

// When the last bytes of a read reached this host, by the system clock (the
// kernel's clock for time stamps); unset when the kernel gave none.
using ReceiveTime = std::optional<std::chrono::system_clock::time_point>;

namespace drain_aware {

// recv(), or recvmsg() with room for the time stamp when `received_at` is
// given (and then set, or reset when there is none). As Asio's
// non_blocking_recv1: false when the socket has nothing (EAGAIN); true
// with the bytes, or the error (eof for the end of the stream).
bool receive(int descriptor, boost::asio::mutable_buffer buffer, ReceiveTime* received_at,
             boost::system::error_code& error, std::size_t& bytes) noexcept;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// The socket's implementation (its descriptor, state and reactor data),
// reached through a pointer to basic_socket's protected member.
struct SocketAccess : tcp::socket {
  static auto& implementation(tcp::socket& socket) {
    return (socket.*(&SocketAccess::impl_)).get_implementation();
  }
};

template <typename Handler, typename IoExecutor>
class ReceiveOperation : public asio::detail::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(ReceiveOperation);

  ReceiveOperation(int descriptor, asio::mutable_buffer buffer, ReceiveTime* received_at,
                   Handler& handler, const IoExecutor& io_executor)
      : reactor_op{boost::system::error_code{}, &ReceiveOperation::perform_receive,
                   &ReceiveOperation::complete},
        descriptor_{descriptor},
        buffer_{buffer},
        received_at_{received_at},
        handler_{std::move(handler)},
        work_{handler_, io_executor} {}

  static status perform_receive(reactor_op* base) {
    auto* self = static_cast<ReceiveOperation*>(base);
    if (!receive(self->descriptor_, self->buffer_, self->received_at_, self->ec_,
                 self->bytes_transferred_)) {
      return not_done;  // EAGAIN: wait for readiness
    }
    // Short of the buffer (an error or the end of the stream included, as
    // Asio's own receive counts them): the socket is empty for now.
    return self->bytes_transferred_ < self->buffer_.size() ? done_and_exhausted : done;
  }

  // As Asio's reactive_socket_recv_op::do_complete.
  static void complete(void* owner, asio::detail::operation* base,
                       const boost::system::error_code& /*ec*/, std::size_t /*bytes*/) {
    auto* self = static_cast<ReceiveOperation*>(base);
    ptr pointers = {asio::detail::addressof(self->handler_), self, self};
    asio::detail::handler_work<Handler, IoExecutor> work{std::move(self->work_)};
    // The handler is moved out before the operation's memory is freed: a
    // part of it may own that memory.
    asio::detail::binder2<Handler, boost::system::error_code, std::size_t> bound{
        self->handler_, self->ec_, self->bytes_transferred_};
    pointers.h = asio::detail::addressof(bound.handler_);
    pointers.reset();
    if (owner) {
      asio::detail::fenced_block block{asio::detail::fenced_block::half};
      work.complete(bound, bound.handler_);
    }
  }

 private:
  int descriptor_;
  asio::mutable_buffer buffer_;
  ReceiveTime* received_at_;
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

// Per-operation cancellation, as Asio's reactor_op_cancellation.
class ReceiveCancellation {
 public:
  ReceiveCancellation(asio::detail::reactor& reactor,
                      asio::detail::reactor::per_descriptor_data& reactor_data, int descriptor)
      : reactor_{&reactor}, reactor_data_{&reactor_data}, descriptor_{descriptor} {}

  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total))) {
      reactor_->cancel_ops_by_key(descriptor_, *reactor_data_, asio::detail::reactor::read_op,
                                  this);
    }
  }

 private:
  asio::detail::reactor* reactor_;
  asio::detail::reactor::per_descriptor_data* reactor_data_;
  int descriptor_;
};

struct InitiateReceive {
  template <typename Handler>
  void operator()(Handler&& handler, asio::detail::reactor* reactor, tcp::socket* socket,
                  asio::mutable_buffer buffer, ReceiveTime* received_at) const {
    using Operation = ReceiveOperation<std::decay_t<Handler>, tcp::socket::executor_type>;
    auto& implementation = SocketAccess::implementation(*socket);
    const bool is_continuation = ::boost_asio_handler_cont_helpers::is_continuation(handler);
    auto slot = asio::get_associated_cancellation_slot(handler);

    typename Operation::ptr pointers = {asio::detail::addressof(handler),
                                        Operation::ptr::allocate(handler), nullptr};
    pointers.p = new (pointers.v)
        Operation(implementation.socket_, buffer, received_at, handler, socket->get_executor());
    if (slot.is_connected()) {
      pointers.p->cancellation_key_ = &slot.template emplace<ReceiveCancellation>(
          *reactor, implementation.reactor_data_, implementation.socket_);
    }
    // As Asio's start_op: an empty buffer completes at once, and the socket
    // is made non-blocking before its first read.
    if (buffer.size() == 0 ||
        !((implementation.state_ & asio::detail::socket_ops::non_blocking) != 0 ||
          asio::detail::socket_ops::set_internal_non_blocking(
              implementation.socket_, implementation.state_, true, pointers.p->ec_))) {
      reactor->post_immediate_completion(pointers.p, is_continuation);
    } else {
      reactor->start_op(asio::detail::reactor::read_op, implementation.socket_,
                        implementation.reactor_data_, pointers.p, is_continuation, true);
    }
    pointers.v = pointers.p = nullptr;
  }
};

}  // namespace drain_aware

// socket.async_read_some(buffer, token), which remembers when it emptied the
// socket (see above). `reactor` is reactor_of(socket.get_executor()). Given
// `received_at`, which must outlive the read, a read that takes bytes sets
// it to when they arrived, or resets it (see enable_receive_times).
template <typename CompletionToken>
auto async_read_some_drain_aware(boost::asio::detail::reactor& reactor,
                                 boost::asio::ip::tcp::socket& socket,
                                 boost::asio::mutable_buffer buffer, CompletionToken&& token,
                                 ReceiveTime* received_at = nullptr) {
  return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, std::size_t)>(
      drain_aware::InitiateReceive{}, token, &reactor, &socket, buffer, received_at);
}

}  // namespace tailcut::http::detail
