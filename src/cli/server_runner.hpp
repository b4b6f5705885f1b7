// What `tailcut serve` and `tailcut upstream` share: the --listen address and
// running a server until SIGINT/SIGTERM.
#pragma once

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

// Blocks until SIGINT or SIGTERM, then stops `server` gracefully.
void run_until_signal(http::Server& server);

}  // namespace tailcut::cli
