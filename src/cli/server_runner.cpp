// --listen parsing and the signal loop of the server subcommands.
#include "cli/server_runner.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <csignal>
#include <stdexcept>

namespace tailcut::cli {

ListenAddress parse_listen_address(std::string_view text) {
  const auto fail = [text](const std::string& problem) -> ListenAddress {
    throw std::invalid_argument{
        "--listen: '" + std::string{text} + "' " + problem +
        "; use e.g. 127.0.0.1:8080, [::1]:8080, or port 0 for any free port"};
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return fail("is not IP:PORT");
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // The server listens on an address, not a name: said here, with the flag,
  // rather than by the server when it starts.
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(host, not_an_address);
  if (not_an_address) return fail("does not start with an IP address");
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("has no port from 0 to 65535");
  }
  return {std::string{host}, static_cast<std::uint16_t>(port)};
}

StopSignals::StopSignals() : signals_{context_, SIGINT, SIGTERM} {}

void StopSignals::run_until_signal(http::Server& server) {
  signals_.async_wait([&server](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("{} received: stopping; the requests in flight are answered first",
                 signal == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
  context_.run();
  server.wait();
  spdlog::info("stopped");
}

}  // namespace tailcut::cli
