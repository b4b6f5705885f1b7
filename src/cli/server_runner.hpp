// What `tailcut serve` and `tailcut upstream` share: the --listen address and
// running a server until SIGINT/SIGTERM.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "tailcut/http/server.hpp"

namespace tailcut::cli {

struct ListenAddress {
  std::string host;
  std::uint16_t port;
};

// Parses --listen's "IP:PORT" (IPv6 as "[::1]:8080"; port 0: any free port).
// Throws std::invalid_argument naming the flag and saying what is wrong.
ListenAddress parse_listen_address(std::string_view text);

// SIGINT and SIGTERM, caught from construction on: made before the server
// starts, so that a signal sent as soon as it says it listens is not met
// by the default action, which kills the process at once.
class StopSignals {
 public:
  StopSignals();

  // Blocks until SIGINT or SIGTERM (one caught already included), then
  // stops `server` gracefully and waits until it has stopped.
  void run_until_signal(http::Server& server);

 private:
  boost::asio::io_context context_;
  boost::asio::signal_set signals_;
};

}  // namespace tailcut::cli
