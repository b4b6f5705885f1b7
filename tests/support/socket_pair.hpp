// A connected pair of loopback TCP sockets, for tests of what one end sees
// when the other is closed, reset or left waiting.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace tailcut::test {

struct SocketPair {
  explicit SocketPair(boost::asio::io_context& io) : near{io}, far{io} {
    boost::asio::ip::tcp::acceptor acceptor{
        io, boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), 0}};
    near.connect(acceptor.local_endpoint());
    acceptor.accept(far);
  }
  boost::asio::ip::tcp::socket near;
  boost::asio::ip::tcp::socket far;
};

}  // namespace tailcut::test
