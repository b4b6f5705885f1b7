// SocketWatchdog: a passed deadline closes the socket (its pending read
// fails); a deadline moved later or removed before it passes does not.
#include "http/common/socket_watchdog.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>

#include "support/socket_pair.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using tailcut::async::detail::SharedTimer;
using tailcut::http::detail::SocketWatchdog;
using Clock = std::chrono::steady_clock;
using tailcut::test::SocketPair;

// The context's SocketCloser, which closes what the watchdog ends.
tailcut::http::detail::SocketCloser& closer_of(asio::io_context& io) {
  return asio::use_service<tailcut::http::detail::SocketCloser>(io);
}

// Starts a read on `socket` that records when and how it ends.
struct PendingRead {
  explicit PendingRead(tcp::socket& socket) {
    socket.async_read_some(asio::buffer(bytes),
                           [this](boost::system::error_code error, std::size_t) {
                             result = error;
                             ended_at = Clock::now();
                           });
  }
  std::array<char, 16> bytes{};
  std::optional<boost::system::error_code> result;
  Clock::time_point ended_at;
};

TEST(SocketWatchdog, APassedDeadlineClosesTheSocket) {
  asio::io_context io;
  SocketPair sockets{io};
  SocketWatchdog watchdog{sockets.near, closer_of(io), SharedTimer::of(io.get_executor()), 10s};
  const auto started = Clock::now();
  watchdog.expires_after(50ms);
  PendingRead read{sockets.near};
  io.run_for(5s);
  ASSERT_TRUE(read.result.has_value());
  EXPECT_TRUE(*read.result);
  EXPECT_TRUE(watchdog.fired());
  EXPECT_FALSE(sockets.near.is_open());
  EXPECT_GE(read.ended_at - started, 50ms);
}

TEST(SocketWatchdog, ADeadlineMovedLaterWaitsForTheNewOne) {
  asio::io_context io;
  SocketPair sockets{io};
  // Wakes every 20 ms: the first deadline's wake-up must not close it.
  SocketWatchdog watchdog{sockets.near, closer_of(io), SharedTimer::of(io.get_executor()), 20ms};
  const auto started = Clock::now();
  watchdog.expires_after(30ms);
  watchdog.expires_after(200ms);
  PendingRead read{sockets.near};
  io.run_for(5s);
  ASSERT_TRUE(read.result.has_value());
  EXPECT_TRUE(watchdog.fired());
  EXPECT_GE(read.ended_at - started, 200ms);
}

TEST(SocketWatchdog, NoDeadlineNeverCloses) {
  asio::io_context io;
  SocketPair sockets{io};
  SocketWatchdog watchdog{sockets.near, closer_of(io), SharedTimer::of(io.get_executor()), 10ms};
  watchdog.expires_after(30ms);
  watchdog.expires_never();
  PendingRead read{sockets.near};
  // Past the old deadline and several wake-ups, the peer sends: the read
  // gets the bytes.
  asio::steady_timer later{io, 150ms};
  later.async_wait(
      [&](boost::system::error_code) { asio::write(sockets.far, asio::buffer("hi", 2)); });
  io.run_for(5s);
  ASSERT_TRUE(read.result.has_value());
  EXPECT_FALSE(*read.result);
  EXPECT_FALSE(watchdog.fired());
  EXPECT_TRUE(sockets.near.is_open());
}

TEST(SocketWatchdog, DestroyedBeforeItsDeadlineLeavesTheSocketOpen) {
  asio::io_context io;
  SocketPair sockets{io};
  {
    SocketWatchdog watchdog{sockets.near, closer_of(io), SharedTimer::of(io.get_executor()), 10ms};
    watchdog.expires_after(20ms);
  }
  asio::steady_timer later{io, 100ms};
  later.async_wait([](boost::system::error_code) {});
  io.run_for(5s);
  EXPECT_TRUE(sockets.near.is_open());
}

}  // namespace
