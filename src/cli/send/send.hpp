// tailcut send as a library: deliver one request through an ordered list of
// endpoints with policy::failover, writing one JSON event per endpoint
// tried. The CLI (cli/send_command.cpp) parses flags into SendOptions;
// tests call this directly.
//
//   SendOptions options;
//   options.endpoints = {"http://primary/hook", "http://backup/hook"};
//   options.request.body = payload;
//   const int status = run_send(options, std::cout, &std::cerr);  // 0: delivered
//
// Events, one JSON line each on `out`, as they happen:
//   {"event":"failed","url",...}          an endpoint answered non-2xx or failed
//   {"event":"delivered","url",...}       the first 2xx
//   {"event":"also_delivered","url",...}  an earlier endpoint's 2xx came later
//   {"event":"unknown","url",...}         still in flight when the linger time
//                                         ended: cancelled, maybe delivered
// with "status" (null when no response), "ms" (that attempt's time) and
// "error" ({"category","message"} or null). Every endpoint tried gets
// exactly one event; nothing is sent without the user knowing. Redirects
// are not followed (a 3xx is a failure: following a 301/302 would turn the
// POST into a GET).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tailcut/http/session_options.hpp"

namespace tailcut::cli::send {

// A POST with no body yet: send's default request.
inline http::RequestOptions post_request() {
  http::RequestOptions request;
  request.method = boost::beast::http::verb::post;
  return request;
}

struct SendOptions {
  std::vector<std::string> endpoints;  // URLs, in the order to try them
  std::chrono::milliseconds per_try = std::chrono::seconds{1};
  std::chrono::milliseconds linger = std::chrono::seconds{60};
  // Method, headers and body (the url is set per endpoint).
  http::RequestOptions request = post_request();
  // The CAs to trust for https (SessionOptions::ca_file); none: the system store.
  std::optional<std::filesystem::path> ca_file{};
};

// Throws std::invalid_argument naming the `tailcut send` flag of the first
// option that is not valid: no endpoint, an endpoint that is not an http://
// or https:// URL (checked with the client's own parser, so that a typo is
// an error at once, not an endpoint that "failed"), a negative duration.
// The one check of SendOptions.
void validate(const SendOptions& options);

// Delivers; returns true when some endpoint answered 2xx. Returns after
// the last event. Runs on the caller's (single-threaded) executor. When an
// event cannot be written to `out`, the delivery goes on (stopping it would
// leave its fate unknown) and send_all then throws std::runtime_error.
boost::asio::awaitable<bool> send_all(SendOptions options, std::ostream* out,
                                      std::ostream* summary);

// send_all on its own io_context; the exit status: 0 delivered, 1 not.
// Throws what send_all throws.
int run_send(const SendOptions& options, std::ostream& out, std::ostream* summary);

}  // namespace tailcut::cli::send
