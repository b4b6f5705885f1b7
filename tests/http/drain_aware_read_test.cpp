// async_read_some_drain_aware: reads what the peer sent, whole and in order,
// whether it came before the read started, after, or between two reads
// right after a read emptied the socket (the case the reactor's memory
// could get wrong); a full buffer leaves the rest for the next read; the
// end of the stream, socket.cancel() and per-operation cancellation end it
// as they end Asio's own read. Asked, it says when the bytes it read
// arrived.
#include "http/common/drain_aware_read.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/socket_pair.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using tailcut::http::detail::async_read_some_drain_aware;
using tailcut::http::detail::reactor_of;
using tailcut::test::SocketPair;

struct ReadResult {
  boost::system::error_code error;
  std::string bytes;
};

// One drain-aware read into a buffer of `room` bytes; `then` runs in its
// completion handler.
class Reader {
 public:
  explicit Reader(tcp::socket& socket)
      : socket_{socket}, reactor_{reactor_of(socket.get_executor())} {}

  template <typename Then>
  void read(std::size_t room, Then then) {
    buffer_.assign(room, '\0');
    async_read_some_drain_aware(reactor_, socket_, asio::buffer(buffer_),
                                [this, then](boost::system::error_code error, std::size_t bytes) {
                                  then(ReadResult{error, buffer_.substr(0, bytes)});
                                });
  }

 private:
  tcp::socket& socket_;
  asio::detail::reactor& reactor_;
  std::string buffer_;
};

void send(tcp::socket& socket, const std::string& bytes) {
  asio::write(socket, asio::buffer(bytes));
}

// Runs `io` until `done()`, at most 10 s; returns done().
template <typename Done>
bool run_until(asio::io_context& io, Done done) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    if (io.stopped()) io.restart();
    io.run_one_for(100ms);
  }
  return done();
}

class DrainAwareRead : public ::testing::TestWithParam<int> {
 protected:
  asio::io_context io{GetParam()};
  SocketPair pair{io};
  Reader reader{pair.near};

  // One read of up to 64 bytes into `pair.near` that notes when they
  // arrived; what it read (empty if it did not end within 10 s).
  std::string read_noting_arrival(tailcut::http::detail::ReceiveTime& received_at) {
    std::array<char, 64> buffer{};
    std::optional<std::size_t> bytes;
    async_read_some_drain_aware(
        reactor_of(pair.near.get_executor()), pair.near, asio::buffer(buffer),
        [&](boost::system::error_code, std::size_t read) { bytes = read; }, &received_at);
    if (!run_until(io, [&] { return bytes.has_value(); })) return {};
    return std::string(buffer.data(), *bytes);
  }
};

TEST_P(DrainAwareRead, ReadsBytesSentBeforeTheReadStarted) {
  send(pair.far, "hello");
  std::optional<ReadResult> result;
  reader.read(64, [&](ReadResult read) { result = read; });
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_FALSE(result->error);
  EXPECT_EQ(result->bytes, "hello");
}

TEST_P(DrainAwareRead, ReadsBytesSentAfterTheReadStarted) {
  std::optional<ReadResult> result;
  reader.read(64, [&](ReadResult read) { result = read; });
  send(pair.far, "later");
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->bytes, "later");
}

// The first read empties the socket (a short read); the peer's next bytes
// arrive before the second read starts, and once more after it started.
// Each read must still see them.
TEST_P(DrainAwareRead, BytesArrivingRightAfterAReadEmptiedTheSocketAreRead) {
  std::vector<std::string> reads;
  send(pair.far, "one");
  reader.read(64, [&](ReadResult first) {
    reads.push_back(first.bytes);
    send(pair.far, "two");  // before the next read starts
    reader.read(64, [&](ReadResult second) {
      reads.push_back(second.bytes);
      reader.read(64, [&](ReadResult third) { reads.push_back(third.bytes); });
      send(pair.far, "three");  // after the next read started
    });
  });
  EXPECT_TRUE(run_until(io, [&] { return reads.size() == 3; }));
  EXPECT_EQ(reads, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_P(DrainAwareRead, AFullBufferLeavesTheRestForTheNextRead) {
  send(pair.far, "0123456789");
  std::vector<std::string> reads;
  reader.read(4, [&](ReadResult first) {
    reads.push_back(first.bytes);
    reader.read(4, [&](ReadResult second) {
      reads.push_back(second.bytes);
      reader.read(4, [&](ReadResult third) { reads.push_back(third.bytes); });
    });
  });
  EXPECT_TRUE(run_until(io, [&] { return reads.size() == 3; }));
  EXPECT_EQ(reads, (std::vector<std::string>{"0123", "4567", "89"}));
}

TEST_P(DrainAwareRead, TheEndOfTheStreamEndsTheRead) {
  send(pair.far, "last");
  std::vector<ReadResult> reads;
  reader.read(64, [&](ReadResult first) {
    reads.push_back(first);
    pair.far.shutdown(tcp::socket::shutdown_send);
    reader.read(64, [&](ReadResult second) { reads.push_back(second); });
  });
  ASSERT_TRUE(run_until(io, [&] { return reads.size() == 2; }));
  EXPECT_EQ(reads[0].bytes, "last");
  EXPECT_EQ(reads[1].error, asio::error::eof);
}

TEST_P(DrainAwareRead, AnEmptyBufferCompletesAtOnceWithNothing) {
  send(pair.far, "kept");
  std::vector<ReadResult> reads;
  reader.read(0, [&](ReadResult empty) {
    reads.push_back(empty);
    reader.read(64, [&](ReadResult next) { reads.push_back(next); });
  });
  ASSERT_TRUE(run_until(io, [&] { return reads.size() == 2; }));
  EXPECT_FALSE(reads[0].error);
  EXPECT_EQ(reads[0].bytes, "");
  EXPECT_EQ(reads[1].bytes, "kept");
}

TEST_P(DrainAwareRead, SocketCancelAbortsAPendingRead) {
  std::optional<ReadResult> result;
  reader.read(64, [&](ReadResult read) { result = read; });
  io.poll();
  ASSERT_FALSE(result);
  pair.near.cancel();
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->error, asio::error::operation_aborted);
}

TEST_P(DrainAwareRead, PerOperationCancellationAbortsAPendingReadAndLeavesTheBytes) {
  asio::cancellation_signal cancel;
  std::array<char, 16> buffer{};
  std::optional<boost::system::error_code> cancelled;
  async_read_some_drain_aware(
      reactor_of(pair.near.get_executor()), pair.near, asio::buffer(buffer),
      asio::bind_cancellation_slot(
          cancel.slot(), [&](boost::system::error_code error, std::size_t) { cancelled = error; }));
  io.poll();
  ASSERT_FALSE(cancelled);
  cancel.emit(asio::cancellation_type::terminal);
  io.poll();
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(*cancelled, asio::error::operation_aborted);

  send(pair.far, "after");
  std::optional<ReadResult> result;
  reader.read(64, [&](ReadResult read) { result = read; });
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->bytes, "after");
}

// A peer writing small pieces from another thread, as fast as it can, while
// reads empty the socket: every byte arrives, in order (bounded: 20,000
// pieces, 10 s).
TEST_P(DrainAwareRead, EveryByteOfAConcurrentWriterArrivesInOrder) {
  constexpr int pieces = 20'000;
  std::string expected;
  for (int piece = 0; piece < pieces; ++piece) expected += std::to_string(piece) + ',';
  std::thread writer{[&] {
    for (int piece = 0; piece < pieces; ++piece) send(pair.far, std::to_string(piece) + ',');
  }};
  std::string received;
  bool ended = false;
  std::function<void(ReadResult)> on_read = [&](ReadResult read) {
    received += read.bytes;
    ended = read.error || received.size() >= expected.size();
    if (!ended) reader.read(64, on_read);
  };
  reader.read(64, on_read);
  EXPECT_TRUE(run_until(io, [&] { return ended; }));
  writer.join();
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

// Sends bytes to `pair.near` and reads them (its socket still blocking),
// until they come time-stamped (polled: the kernel's work item gives no
// event; at most 10 s).
bool stamps_have_started(SocketPair& pair) {
  std::array<char, 64> buffer{};
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
    send(pair.far, "probe");
    tailcut::http::detail::ReceiveTime received_at;
    boost::system::error_code error;
    std::size_t bytes = 0;
    if (!tailcut::http::detail::drain_aware::receive(
            pair.near.native_handle(), asio::buffer(buffer), &received_at, error, bytes) ||
        error) {
      return false;
    }
    if (received_at) return true;
  }
  return false;
}

// The kernel's time stamp of the bytes: from before they were sent to the
// read, which comes 50 ms later (the wait it is to measure).
TEST_P(DrainAwareRead, AReadSaysWhenItsBytesArrived) {
  ASSERT_TRUE(tailcut::http::detail::enable_receive_times(pair.near.native_handle()));
  // The kernel turns time stamps on a moment after the first socket asks
  // (a deferred work item): until then, bytes come without.
  ASSERT_TRUE(stamps_have_started(pair));
  const auto before_send = std::chrono::system_clock::now();
  send(pair.far, "stamped");
  std::this_thread::sleep_for(50ms);
  tailcut::http::detail::ReceiveTime received_at;
  EXPECT_EQ(read_noting_arrival(received_at), "stamped");
  const auto read_at = std::chrono::system_clock::now();
  ASSERT_TRUE(received_at.has_value());
  EXPECT_GE(*received_at, before_send);
  EXPECT_GE(read_at - *received_at, 50ms);
}

TEST_P(DrainAwareRead, WithoutTimeStampsAReadSaysNothingOfWhen) {
  send(pair.far, "plain");
  tailcut::http::detail::ReceiveTime received_at = std::chrono::system_clock::now();
  EXPECT_EQ(read_noting_arrival(received_at), "plain");
  EXPECT_FALSE(received_at.has_value());
}

// Both ways the project runs a context: one thread without the reactor's
// locks (a lone server worker), and the default.
INSTANTIATE_TEST_SUITE_P(Contexts, DrainAwareRead,
                         ::testing::Values(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO,
                                           BOOST_ASIO_CONCURRENCY_HINT_DEFAULT),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return param_info.param == BOOST_ASIO_CONCURRENCY_HINT_DEFAULT
                                      ? std::string{"default"}
                                      : std::string{"unsafe_io"};
                         });

}  // namespace
