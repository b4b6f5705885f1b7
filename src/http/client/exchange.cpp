// A client connection's exchanges: a request sent (at once, usually) and
// its response read by the ResponseReader, a step at a time, under the
// connection's deadline (Connection::begin_exchange and its steps).
#include <boost/asio/ssl/error.hpp>

#include "connection_impl.hpp"

namespace tailcut::http::detail {

namespace {

// The peer went away: what a stale keep-alive connection fails with.
bool is_disconnect(const error_code& error) {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe || error == asio::error::connection_aborted ||
         error == ssl::error::stream_truncated;
}

bool is_end_of_stream(const error_code& error) {
  return error == asio::error::eof || error == ssl::error::stream_truncated;
}

ExchangeResult exchange_failed(async::Failure failure) {
  return ExchangeResult{nullptr, std::move(failure)};
}

// What a failed exchange ends with, built only when it fails.

// What a failed write of the request ends the exchange with.
ExchangeResult failed_send(const Connection::Impl& io, const error_code& error, bool reused,
                           const HttpUrl& url) {
  if (async::Failure interrupted = io.interruption(error, "sending the request to " + url.text)) {
    return exchange_failed(std::move(interrupted));
  }
  if (reused && is_disconnect(error)) return ExchangeResult{};  // closed while idle: retry
  return exchange_failed(client_failure(ErrorKind::connection_closed,
                                        "sending the request to " + url.origin.authority() +
                                            " failed: " + error.message() + " (" + url.text + ")"));
}

// Whether a failed read is the end of a response delimited by EOF.
bool ends_the_response(const Connection::Impl& io, const error_code& error, bool reused,
                       bool received_any, ResponseReader& reader) {
  if (io.interrupted(error)) return false;
  if (reused && !received_any && is_disconnect(error)) return false;
  return is_end_of_stream(error) && reader.finish_at_eof();
}

// What a failed read ends the exchange with (not the end of the response).
ExchangeResult failed_read(const Connection::Impl& io, const error_code& error, bool reused,
                           bool received_any, const ResponseReader& reader, const HttpUrl& url) {
  if (async::Failure interrupted = io.interruption(error, "reading the response of " + url.text)) {
    return exchange_failed(std::move(interrupted));
  }
  if (reused && !received_any && is_disconnect(error)) return ExchangeResult{};  // retry
  return exchange_failed(client_failure(
      ErrorKind::connection_closed,
      url.origin.authority() + " closed the connection before the response was complete (" +
          reader.progress() + ", " + error.message() + ") (" + url.text + ")"));
}

// What a response that is not HTTP, or over a limit, ends the exchange with.
ExchangeResult failed_response(const ResponseReader& reader) {
  return exchange_failed(reader.error());
}

}  // namespace

void Connection::begin_exchange(const ExchangeRequest& request, ExchangeResult& result) {
  Impl& io = *impl_;
  io.request = &request;
  io.stage = Impl::Stage::sending;
  io.stop_watch.emplace(request.stop, Impl::CloseOnStop{&io});
  io.reused = io.answered_before;
  io.received_any = false;
  io.wait_error = {};
  // A previous exchange's body (a redirect's, a stale connection's) is gone.
  if (request.limits.body_charge != nullptr) request.limits.body_charge->release();
  io.arm(request.total);
  io.mid_exchange = true;
  if (io.write_at_once(*request.wire)) io.after_send(result);
}

bool Connection::exchange_running() const noexcept { return impl_->stage != Impl::Stage::none; }

asio::awaitable<void> Connection::wait_for_exchange() {
  Impl& io = *impl_;
  if (io.stage == Impl::Stage::sending) {
    return io.write_rest(*io.request->wire);
  }
  if (io.tls) return io.tls_read_some();
  return io.plain->async_wait(tcp::socket::wait_read, use_awaitable_into(io.wait_error));
}

void Connection::continue_exchange(ExchangeResult& result) {
  Impl& io = *impl_;
  if (io.stage == Impl::Stage::sending) {
    io.after_send(result);
  } else if (io.tls) {
    io.after_read_of(io.tls_read_bytes, result);
  } else {
    io.read_available(result);
  }
}

// The request is sent (or failed): the response is read next.
void Connection::Impl::after_send(ExchangeResult& result) {
  if (wait_error) {
    end_exchange(result, failed_send(*this, wait_error, reused, *request->url));
    return;
  }
  stage = Stage::reading;
  buffer.clear();
  arm(earliest(request->total, request->sock_read, ErrorKind::read_timeout));
}

// Plain TCP, the socket readable (or its wait failed): reads what is there
// until the socket has no more (its readiness is signalled on an edge) or
// the exchange is over.
void Connection::Impl::read_available(ExchangeResult& result) {
  while (stage == Stage::reading) {
    std::size_t bytes = 0;
    if (!wait_error) {
      bytes = plain->read_some(buffer.prepare(read_chunk_bytes), wait_error);
      if (wait_error == asio::error::would_block) {
        wait_error = {};
        return;  // wait again
      }
    }
    after_read_of(bytes, result);
  }
}

// `bytes` were read, or the read failed (wait_error): the reader is fed,
// and the exchange ends or reads on under a new read deadline.
void Connection::Impl::after_read_of(std::size_t bytes, ExchangeResult& result) {
  after_read(bytes);
  if (wait_error) {
    if (!ends_the_response(*this, wait_error, reused, received_any, response_reader())) {
      end_exchange(result,
                   failed_read(*this, wait_error, reused, received_any, *reader, *request->url));
      return;
    }
    complete(result, true);
    return;
  }
  received_any = true;
  switch (response_reader().feed(buffer)) {
    case ResponseReader::Fed::complete:
      complete(result, false);
      return;
    case ResponseReader::Fed::failed:
      end_exchange(result, failed_response(*reader));
      return;
    case ResponseReader::Fed::need_more:
      arm(earliest(request->total, request->sock_read, ErrorKind::read_timeout));
      return;
  }
}

// The whole response is read.
void Connection::Impl::complete(ExchangeResult& result, bool ended_by_eof) {
  disarm();
  // Stopped as the last read completed: the stop closed the socket under a
  // response already read, which is dropped with the connection.
  if (request->stop.stop_requested()) {
    end_exchange(result, exchange_failed(async::Failure::cancelled()));
    return;
  }
  mid_exchange = false;
  ExchangeResult ending{std::make_unique<RawResponse>(reader->take()), {}};
  ending.response->reusable = ending.response->reusable && !ended_by_eof && buffer.size() == 0;
  answered_before = true;
  end_exchange(result, std::move(ending));
}

void Connection::Impl::end_exchange(ExchangeResult& result, ExchangeResult ending) {
  result = std::move(ending);
  forget_exchange();
}

// A body not taken goes with the reader, and its charge with it.
void Connection::Impl::forget_exchange() noexcept {
  stage = Stage::none;
  reader.reset();
  stop_watch.reset();
  request = nullptr;
}

}  // namespace tailcut::http::detail
