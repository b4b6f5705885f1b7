// receive_noting_time: a non-blocking receive that says when its bytes
// reached this host (the kernel's time stamp), says "nothing yet" on an
// empty socket and eof at the end of the stream; without time stamps asked
// for, its reads carry none.
#include "http/common/receive_time.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "support/socket_pair.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tailcut::http::detail::enable_receive_times;
using tailcut::http::detail::receive_noting_time;
using tailcut::http::detail::ReceiveTime;
using tailcut::test::SocketPair;

void send(asio::ip::tcp::socket& socket, std::string_view bytes) {
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()));
}

// What one receive on `socket` gives.
struct Received {
  bool done = false;  // false: nothing to read yet
  boost::system::error_code error;
  std::string bytes;
  ReceiveTime received_at;
};

Received receive(asio::ip::tcp::socket& socket) {
  std::array<char, 64> buffer{};
  Received result;
  result.received_at = std::chrono::system_clock::time_point{};  // must be reset when unstamped
  std::size_t bytes = 0;
  result.done = receive_noting_time(socket.native_handle(), asio::buffer(buffer),
                                    result.received_at, result.error, bytes);
  result.bytes.assign(buffer.data(), bytes);
  return result;
}

// Receives until bytes come (the kernel may still be on its way to the
// socket; at most 10 s, polled: there is no event to wait for here).
Received receive_when_there(asio::ip::tcp::socket& socket) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  Received result = receive(socket);
  while (!result.done && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
    result = receive(socket);
  }
  return result;
}

// Sends probes until they come time-stamped: the kernel turns time stamps
// on a moment after the first socket asks (a deferred work item).
bool stamps_have_started(SocketPair& pair) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < give_up) {
    send(pair.far, "probe");
    const Received probe = receive_when_there(pair.near);
    if (!probe.done || probe.error) return false;
    if (probe.received_at) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

TEST(ReceiveTimeTest, AnEmptySocketHasNothingYetAndTheEndOfTheStreamIsEof) {
  asio::io_context io;
  SocketPair pair{io};
  EXPECT_FALSE(receive(pair.near).done);
  send(pair.far, "bytes");
  const Received bytes = receive_when_there(pair.near);
  EXPECT_TRUE(bytes.done);
  EXPECT_FALSE(bytes.error);
  EXPECT_EQ(bytes.bytes, "bytes");
  EXPECT_FALSE(bytes.received_at.has_value());  // not asked for
  pair.far.close();
  const Received end = receive_when_there(pair.near);
  EXPECT_TRUE(end.done);
  EXPECT_EQ(end.error, asio::error::eof);
}

// The kernel's time stamp of the bytes: from before they were sent to the
// receive, which comes 50 ms later (the wait it is to measure).
TEST(ReceiveTimeTest, AReceiveSaysWhenItsBytesArrived) {
  asio::io_context io;
  SocketPair pair{io};
  if (!enable_receive_times(pair.near.native_handle())) GTEST_SKIP() << "no receive time stamps";
  ASSERT_TRUE(stamps_have_started(pair));
  const auto before_send = std::chrono::system_clock::now();
  send(pair.far, "stamped");
  std::this_thread::sleep_for(50ms);
  const Received stamped = receive_when_there(pair.near);
  const auto read_at = std::chrono::system_clock::now();
  EXPECT_EQ(stamped.bytes, "stamped");
  ASSERT_TRUE(stamped.received_at.has_value());
  EXPECT_GE(*stamped.received_at, before_send);
  EXPECT_GE(read_at - *stamped.received_at, 50ms);
}

}  // namespace
