// The scripted test servers of the HTTP client tests: plain Asio, a minimal
// request reader, replies written exactly as scripted.
#include "support/client_test_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdio>
#include <map>
#include <type_traits>

namespace tailcut::test {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace detail {

struct ServerState {
  ServerState(asio::io_context& io, RequestScript request_script,
              std::shared_ptr<ServerCounters> shared_counters)
      : acceptor{io},
        script{std::move(request_script)},
        counters{shared_counters ? std::move(shared_counters)
                                 : std::make_shared<ServerCounters>()} {}

  tcp::acceptor acceptor;
  RequestScript script;
  std::shared_ptr<ServerCounters> counters;
  std::optional<ssl::context> tls;
  std::vector<ReceivedRequest> requests;
  std::map<std::size_t, tcp::socket*> open_sockets;
  std::size_t next_connection_index = 0;
};

}  // namespace detail

namespace {

using detail::ServerState;

auto into(error_code& error) { return asio::redirect_error(asio::use_awaitable, error); }

bool same_name(std::string_view left, std::string_view right) {
  return std::ranges::equal(left, right, [](unsigned char a, unsigned char b) {
    return std::tolower(a) == std::tolower(b);
  });
}

std::string reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

// Registers a connection's socket (so the server can close it) and counts it.
struct ConnectionScope {
  ConnectionScope(std::shared_ptr<ServerState> server_state, std::size_t connection_index,
                  tcp::socket& socket)
      : state{std::move(server_state)}, index{connection_index} {
    state->open_sockets[index] = &socket;
  }
  ~ConnectionScope() {
    state->open_sockets.erase(index);
    --state->counters->connections_open;
  }
  std::shared_ptr<ServerState> state;
  std::size_t index;
};

struct InFlight {
  explicit InFlight(ServerCounters& server_counters) : counters{server_counters} {
    ++counters.requests;
    counters.max_in_flight = std::max(counters.max_in_flight, ++counters.in_flight);
  }
  ~InFlight() { --counters.in_flight; }
  ServerCounters& counters;
};

ReceivedRequest parse_head(std::string_view head) {
  ReceivedRequest request;
  const auto line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  const auto first_space = request_line.find(' ');
  const auto second_space = request_line.find(' ', first_space + 1);
  request.method = std::string{request_line.substr(0, first_space)};
  request.target =
      std::string{request_line.substr(first_space + 1, second_space - first_space - 1)};
  std::size_t position = line_end + 2;
  while (position < head.size()) {
    const auto end = head.find("\r\n", position);
    const std::string_view line = head.substr(position, end - position);
    position = end + 2;
    if (line.empty()) break;
    const auto colon = line.find(':');
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(std::string{line.substr(0, colon)}, std::string{value});
  }
  return request;
}

// Reads one request (header and Content-Length body). nullopt on EOF/error.
template <typename Stream>
asio::awaitable<std::optional<ReceivedRequest>> read_request(Stream& stream, std::string& buffer,
                                                             error_code& error) {
  const std::size_t head_size = co_await asio::async_read_until(
      stream, asio::dynamic_buffer(buffer), "\r\n\r\n", into(error));
  if (error) co_return std::nullopt;
  ReceivedRequest request = parse_head(std::string_view{buffer}.substr(0, head_size));
  buffer.erase(0, head_size);
  std::size_t length = 0;
  if (const auto content_length = request.header("Content-Length")) {
    length = std::stoul(*content_length);
  }
  if (buffer.size() < length) {
    co_await asio::async_read(stream, asio::dynamic_buffer(buffer),
                              asio::transfer_exactly(length - buffer.size()), into(error));
    if (error) co_return std::nullopt;
  }
  request.body = buffer.substr(0, length);
  buffer.erase(0, length);
  co_return request;
}

void count_client_close(ServerCounters& counters, const error_code& error, bool tls) {
  if (error == asio::error::operation_aborted) return;  // the server closed it
  ++counters.closed_by_client;
  if (error == asio::error::connection_reset) ++counters.reset_by_client;
  // Over TLS, Asio reads a plain end of stream only after close_notify (a
  // bare TCP close is ssl::error::stream_truncated).
  if (tls && error == asio::error::eof) ++counters.tls_close_notify;
}

// Reads and discards until the client closes; returns what the read ended
// with.
template <typename Stream>
asio::awaitable<error_code> wait_for_client_close(Stream& stream) {
  std::array<char, 1024> sink{};
  error_code error;
  while (!error) co_await stream.async_read_some(asio::buffer(sink), into(error));
  co_return error;
}

template <typename Stream>
asio::awaitable<void> serve(std::shared_ptr<ServerState> state, Stream& stream,
                            std::size_t connection_index) {
  constexpr bool tls = std::is_same_v<Stream, ssl::stream<tcp::socket>>;
  ServerCounters& counters = *state->counters;
  std::string buffer;
  for (std::size_t index_on_connection = 0;; ++index_on_connection) {
    error_code error;
    std::optional<ReceivedRequest> request = co_await read_request(stream, buffer, error);
    if (!request) {
      count_client_close(counters, error, tls);
      co_return;
    }
    request->connection_index = connection_index;
    request->index_on_connection = index_on_connection;
    state->requests.push_back(*request);
    InFlight in_flight{counters};
    const Reply reply = state->script(*request);
    for (const ReplyPart& part : reply.parts) {
      if (part.delay.count() > 0) {
        asio::steady_timer pause{stream.get_executor(), part.delay};
        co_await pause.async_wait(into(error));
      }
      if (!error) co_await asio::async_write(stream, asio::buffer(part.bytes), into(error));
      if (error) co_return;
    }
    if (reply.after == AfterReply::close) {
      ++counters.closed_by_server;
      error_code ignored;
      stream.lowest_layer().close(ignored);
      co_return;
    }
    if (reply.after == AfterReply::hang) {
      count_client_close(counters, co_await wait_for_client_close(stream), tls);
      co_return;
    }
  }
}

asio::awaitable<void> serve_plain(std::shared_ptr<ServerState> state, tcp::socket socket,
                                  std::size_t index) {
  ConnectionScope scope{state, index, socket};
  co_await serve(state, socket, index);
}

asio::awaitable<void> serve_tls(std::shared_ptr<ServerState> state, tcp::socket socket,
                                std::size_t index) {
  ssl::stream<tcp::socket> stream{std::move(socket), *state->tls};
  ConnectionScope scope{state, index, stream.next_layer()};
  error_code error;
  co_await stream.async_handshake(ssl::stream_base::server, into(error));
  if (error) co_return;  // e.g. the client rejected the certificate
  co_await serve(state, stream, index);
}

asio::awaitable<void> accept_loop(std::shared_ptr<ServerState> state) {
  for (;;) {
    error_code error;
    tcp::socket socket = co_await state->acceptor.async_accept(into(error));
    if (error) {
      if (!state->acceptor.is_open()) co_return;
      continue;
    }
    ServerCounters& counters = *state->counters;
    ++counters.connections_accepted;
    counters.max_connections_open =
        std::max(counters.max_connections_open, ++counters.connections_open);
    const std::size_t index = state->next_connection_index++;
    const auto executor = state->acceptor.get_executor();
    if (state->tls) {
      asio::co_spawn(executor, serve_tls(state, std::move(socket), index), asio::detached);
    } else {
      asio::co_spawn(executor, serve_plain(state, std::move(socket), index), asio::detached);
    }
  }
}

}  // namespace

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (same_name(field, name)) return value;
  }
  return std::nullopt;
}

Reply Reply::text(int status, std::string body, std::string extra_headers, std::string version) {
  std::string bytes = version + " " + std::to_string(status) + " " + reason_phrase(status) +
                      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                      extra_headers + "\r\n" + body;
  Reply reply;
  reply.parts.push_back(ReplyPart{std::chrono::milliseconds{0}, std::move(bytes)});
  return reply;
}

Reply Reply::redirect(int status, std::string location) {
  return text(status, "", "Location: " + location + "\r\n");
}

Reply Reply::chunked(std::vector<std::string> chunks, std::chrono::milliseconds gap) {
  Reply reply;
  reply.parts.push_back(ReplyPart{std::chrono::milliseconds{0},
                                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"});
  for (const std::string& chunk : chunks) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    reply.parts.push_back(ReplyPart{gap, size + chunk + "\r\n"});
  }
  reply.parts.push_back(ReplyPart{gap, "0\r\n\r\n"});
  return reply;
}

Reply Reply::raw(std::string bytes, AfterReply after) {
  Reply reply;
  reply.parts.push_back(ReplyPart{std::chrono::milliseconds{0}, std::move(bytes)});
  reply.after = after;
  return reply;
}

Reply Reply::no_answer() {
  Reply reply;
  reply.after = AfterReply::hang;
  return reply;
}

Reply Reply::drop() {
  Reply reply;
  reply.after = AfterReply::close;
  return reply;
}

Reply Reply::delayed(std::chrono::milliseconds delay) && {
  if (parts.empty()) parts.push_back(ReplyPart{});
  parts.front().delay += delay;
  return std::move(*this);
}

ClientTestServer::ClientTestServer(asio::io_context& io, RequestScript script,
                                   const TestCertificate* tls,
                                   std::shared_ptr<ServerCounters> counters)
    : state_{std::make_shared<ServerState>(io, std::move(script), std::move(counters))} {
  if (tls) {
    state_->tls.emplace(ssl::context::tls_server);
    state_->tls->use_certificate_chain(asio::buffer(tls->certificate_pem()));
    state_->tls->use_private_key(asio::buffer(tls->private_key_pem()), ssl::context::pem);
  }
  const tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  asio::co_spawn(io, accept_loop(state_), asio::detached);
}

ClientTestServer::~ClientTestServer() {
  error_code ignored;
  state_->acceptor.close(ignored);
  for (const auto& [index, socket] : state_->open_sockets) socket->close(ignored);
}

std::uint16_t ClientTestServer::port() const { return state_->acceptor.local_endpoint().port(); }

std::string ClientTestServer::url(std::string_view path) const {
  return std::string{state_->tls ? "https" : "http"} + "://127.0.0.1:" + std::to_string(port()) +
         std::string{path};
}

const ServerCounters& ClientTestServer::counters() const { return *state_->counters; }

const std::vector<ReceivedRequest>& ClientTestServer::requests() const { return state_->requests; }

struct SaturatedListener::Sockets {
  explicit Sockets(asio::io_context& io) : listener{io} {}
  tcp::acceptor listener;
  std::vector<tcp::socket> fillers;
};

SaturatedListener::SaturatedListener(asio::io_context& io)
    : sockets_{std::make_unique<Sockets>(io)} {
  const tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  sockets_->listener.open(endpoint.protocol());
  sockets_->listener.bind(endpoint);
  sockets_->listener.listen(0);
  // Linux queues backlog + 1 connections; a few more make sure it is full.
  constexpr int fillers = 4;
  for (int i = 0; i < fillers; ++i) {
    sockets_->fillers.emplace_back(io);
    sockets_->fillers.back().async_connect(sockets_->listener.local_endpoint(),
                                           [](const error_code&) {});
  }
}

SaturatedListener::~SaturatedListener() = default;

std::string SaturatedListener::url() const {
  return "http://127.0.0.1:" + std::to_string(sockets_->listener.local_endpoint().port()) + "/";
}

std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  const std::uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds{20});
  }
  return true;
}

}  // namespace tailcut::test
