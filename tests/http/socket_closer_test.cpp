// SocketCloser: a socket handed to it ends at once for its owner (pending
// operations aborted, no longer open), and its descriptor is closed on the
// closer's thread the way asked: a reset, or a FIN after the data sent.
#include "http/common/socket_closer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/socket_pair.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using tailcut::http::detail::SocketCloser;
using tailcut::test::SocketPair;

// What the far end reads until the connection ends: the bytes, and the error
// that ended it (eof for a FIN, connection_reset for a reset).
struct FarEnd {
  std::string bytes;
  boost::system::error_code ending;
};

FarEnd read_until_the_end(tcp::socket& far) {
  FarEnd result;
  std::array<char, 256> chunk{};
  for (;;) {
    const std::size_t read = far.read_some(asio::buffer(chunk), result.ending);
    result.bytes.append(chunk.data(), read);
    if (result.ending) return result;
  }
}

bool descriptor_open(int descriptor) { return ::fcntl(descriptor, F_GETFD) != -1; }

TEST(SocketCloser, AResetEndsThePendingReadAtOnceAndReachesThePeer) {
  asio::io_context io;
  SocketPair pair{io};
  const int descriptor = pair.near.native_handle();
  std::optional<boost::system::error_code> pending_read_ended;
  std::array<char, 16> buffer{};
  pair.near.async_read_some(asio::buffer(buffer), [&](boost::system::error_code error,
                                                      std::size_t) { pending_read_ended = error; });

  SocketCloser& closer = asio::use_service<SocketCloser>(io);
  closer.close(pair.near, SocketCloser::How::reset);
  EXPECT_FALSE(pair.near.is_open());
  io.run();
  ASSERT_TRUE(pending_read_ended);
  EXPECT_EQ(*pending_read_ended, asio::error::operation_aborted);

  closer.wait_until_idle();
  EXPECT_FALSE(descriptor_open(descriptor));
  EXPECT_EQ(read_until_the_end(pair.far).ending, asio::error::connection_reset);
}

TEST(SocketCloser, AGracefulCloseSendsTheDataWrittenThenEndOfStream) {
  asio::io_context io;
  SocketPair pair{io};
  const int descriptor = pair.near.native_handle();
  asio::write(pair.near, asio::buffer(std::string{"the last answer"}));

  SocketCloser& closer = asio::use_service<SocketCloser>(io);
  closer.close(pair.near, SocketCloser::How::graceful);
  EXPECT_FALSE(pair.near.is_open());
  closer.wait_until_idle();
  EXPECT_FALSE(descriptor_open(descriptor));

  const FarEnd far = read_until_the_end(pair.far);
  EXPECT_EQ(far.bytes, "the last answer");
  EXPECT_EQ(far.ending, asio::error::eof);
}

TEST(SocketCloser, ASocketNotOpenIsLeftAsItIs) {
  asio::io_context io;
  tcp::socket never_opened{io};
  SocketCloser& closer = asio::use_service<SocketCloser>(io);
  closer.close(never_opened, SocketCloser::How::reset);
  EXPECT_FALSE(never_opened.is_open());
  closer.wait_until_idle();
}

TEST(SocketCloser, DestroyingTheContextClosesEveryQueuedDescriptor) {
  std::vector<int> descriptors;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  {
    asio::io_context io;
    for (int i = 0; i < 50; ++i) {
      pairs.push_back(std::make_unique<SocketPair>(io));
      descriptors.push_back(pairs.back()->near.native_handle());
      asio::use_service<SocketCloser>(io).close(pairs.back()->near, SocketCloser::How::reset);
    }
    // The far ends are closed with the context, by their own sockets.
    for (auto& pair : pairs) {
      boost::system::error_code ignored;
      pair->far.close(ignored);
    }
    pairs.clear();
  }  // the closer's shutdown closes what is still queued, then joins
  for (const int descriptor : descriptors) {
    EXPECT_FALSE(descriptor_open(descriptor)) << "descriptor " << descriptor;
  }
}

}  // namespace
