// ServerTestClient: time-bounded blocking HTTP/1.1 client for server tests.
#include "support/server_test_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <stdexcept>

namespace tailcut::testing {
namespace {

namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

tcp::endpoint loopback(std::uint16_t port) {
  return tcp::endpoint{boost::asio::ip::address_v4::loopback(), port};
}

}  // namespace

std::string raw_request(std::string_view method, std::string_view target,
                        std::string_view extra_headers, std::string_view body) {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
  request.append(extra_headers);
  if (!body.empty()) request.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  request.append("\r\n").append(body);
  return request;
}

template <typename Start>
boost::system::error_code ServerTestClient::run_bounded(std::chrono::milliseconds limit,
                                                        Start start) {
  bool done = false;
  boost::system::error_code result;
  start([&done, &result](boost::system::error_code error, auto&&...) {
    done = true;
    result = error;
  });
  io_.restart();
  io_.run_for(limit);
  if (done) return result;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  io_.restart();
  io_.run();  // the cancelled operation completes at once
  return boost::asio::error::timed_out;
}

ServerTestClient::ServerTestClient(std::uint16_t port, std::chrono::milliseconds limit)
    : limit_{limit} {
  const auto error = run_bounded(limit_, [this, port](auto handler) {
    socket_.async_connect(loopback(port), std::move(handler));
  });
  if (error) {
    throw std::runtime_error{"test client: cannot connect to port " + std::to_string(port) + ": " +
                             error.message()};
  }
}

bool ServerTestClient::can_connect(std::uint16_t port, std::chrono::milliseconds limit) {
  try {
    ServerTestClient client{port, limit};
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

void ServerTestClient::send(std::string_view bytes) {
  const auto error = run_bounded(limit_, [this, bytes](auto handler) {
    boost::asio::async_write(socket_, boost::asio::buffer(bytes), std::move(handler));
  });
  if (error) throw std::runtime_error{"test client: send failed: " + error.message()};
}

ServerTestClient::Reply ServerTestClient::read_response(bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::uint64_t{64} * 1024 * 1024);
  parser.skip(head);
  Reply reply;
  reply.error = run_bounded(limit_, [this, &parser](auto handler) {
    bhttp::async_read(socket_, buffer_, parser, std::move(handler));
  });
  if (!reply.error) reply.response = parser.release();
  return reply;
}

http::Response ServerTestClient::request(std::string_view method, std::string_view target,
                                         std::string_view extra_headers, std::string_view body) {
  send(raw_request(method, target, extra_headers, body));
  auto reply = read_response(method == "HEAD");
  if (!reply.response) {
    throw std::runtime_error{"test client: no response to " + std::string{method} + " " +
                             std::string{target} + ": " + reply.error.message()};
  }
  return std::move(*reply.response);
}

std::optional<ServerTestClient::Clock::duration> ServerTestClient::wait_for_close(
    std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  const auto deadline = start + limit;
  std::array<char, 4096> discarded;
  for (int reads = 0; reads < 10'000; ++reads) {
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    const auto error = run_bounded(left, [this, &discarded](auto handler) {
      socket_.async_read_some(boost::asio::buffer(discarded), std::move(handler));
    });
    if (error == boost::asio::error::timed_out) return std::nullopt;
    if (error) return Clock::now() - start;  // end of stream, reset: closed
  }
  return std::nullopt;
}

}  // namespace tailcut::testing
