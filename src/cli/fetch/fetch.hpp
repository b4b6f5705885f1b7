// tailcut fetch as a library: fetch a stream of URLs concurrently and write
// one JSON record per URL. The CLI (cli/fetch_command.cpp) only parses flags
// into FetchOptions and opens the streams; tests call this directly.
//
//   FetchOptions options;
//   options.concurrency = 50;
//   FetchStreams streams{.input = &std::cin, .out = &std::cout, .summary = &std::cerr};
//   const int status = run_fetch(options, streams);   // 0: every URL got a 2xx
//
// Streaming: URLs are read one at a time, only when there is room for one
// more (a Limiter permit), so memory does not grow with the input. In
// completion order at most `concurrency` URLs are read and not yet written;
// in input order at most 2 x `concurrency` (N in flight, up to N finished
// and waiting for an earlier one). A stream is read synchronously
// (std::getline) between awaits, which suits files; a pipe, socket or
// terminal is best given as a descriptor, read without blocking: a slow
// producer then pauses neither the requests in flight nor the deadline.
//
// Every URL read gets exactly one record. When the batch deadline passes or
// --fail-fast stops the batch, the requests in flight are cancelled (their
// connections closed) and reported as "deadline" / "cancelled", and so is
// every URL not yet started that can be read without waiting: the rest of
// a stream, what a descriptor has sent so far (the summary then says the
// input was read up to the stop only).
//
// Cancelling fetch_all (SIGINT in run_fetch) cancels what is in flight,
// writes those records ("cancelled") and the summary, and throws
// operation_aborted; unread URLs get no record then.
//
// Single-threaded: one io_context, one http::Session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tailcut/http/session_options.hpp"

namespace tailcut::cli::fetch {

enum class OutputOrder {
  input,       // records in the order of the URLs
  completion,  // each record as soon as its request ends
};

struct HedgeSpec {
  // The fixed delay; with adaptive_delay, the one used until an origin's
  // window knows enough (policy::AdaptiveDelayOptions::min_samples).
  std::chrono::milliseconds delay{300};
  std::size_t extra_attempts = 0;
  // --hedge auto: each origin's delay follows its recent first attempts
  // (policy::AdaptiveHedgeDelay): the latency quantile that spends the
  // hedge budget.
  bool adaptive_delay = false;
};

struct FetchOptions {
  // The most extra attempts of a hedge.
  static constexpr std::size_t max_hedge_extra_attempts = 16;
  // The extra attempts of --hedge auto when no count is given.
  static constexpr std::size_t default_hedge_extra_attempts = 2;
  // The hedge budget of an adaptive delay when none is given (percent).
  static constexpr double adaptive_hedge_budget_percent = 5;
  // The most origins whose hedge delay and budget are kept (about 13 KB
  // each), least recently used dropped first: constant memory however many
  // distinct hosts the input names.
  static constexpr std::size_t max_hedge_hosts = 1024;

  std::size_t concurrency = 100;  // URLs in flight at once (>= 1)
  std::size_t per_host = 0;       // requests in flight to one origin; 0 = no limit
  // One URL's request (every hedged attempt and redirect included).
  std::chrono::milliseconds timeout = std::chrono::seconds{30};
  std::chrono::milliseconds connect_timeout = std::chrono::seconds{10};
  // The whole batch, from the start.
  std::optional<std::chrono::milliseconds> deadline{};
  OutputOrder order = OutputOrder::input;
  // The first failure (an error or a non-2xx status) cancels the rest.
  bool fail_fast = false;
  std::optional<HedgeSpec> hedge{};
  // Extra attempts allowed per 100 first attempts, for each origin
  // (policy::HedgeBudget); 0: no cap. Unset: adaptive_hedge_budget_percent
  // with an adaptive delay, no cap with a fixed one.
  std::optional<double> hedge_budget_percent{};
  [[nodiscard]] double effective_hedge_budget_percent() const noexcept {
    const bool adaptive = hedge && hedge->adaptive_delay;
    return hedge_budget_percent.value_or(adaptive ? adaptive_hedge_budget_percent : 0);
  }
  // Method, headers and body of every request (url and timeouts are set per URL).
  http::RequestOptions request{};
  bool include_body = false;  // the "body" field in each record
  // The CAs to trust for https (SessionOptions::ca_file); none: the system store.
  std::optional<std::filesystem::path> ca_file{};
};

// Throws std::invalid_argument naming the `tailcut fetch` flag of the first
// option out of range, and what it must be. The one check of FetchOptions.
void validate(const FetchOptions& options);

// Where URLs come from and records go. Not owned; must outlive the run.
struct FetchStreams {
  std::vector<std::string> urls{};  // taken first
  std::istream* input = nullptr;    // then its lines, when set
  // Or then the lines of this pipe, socket or terminal (is_waitable_input),
  // read without blocking; left open. -1: none. Not with `input`.
  int input_descriptor = -1;
  std::ostream* out = nullptr;               // the JSON records (required)
  std::string out_name = "standard output";  // `out` in the error when it cannot be written
  std::ostream* progress = nullptr;          // a live progress bar (a terminal), or none
  // `out` and `progress` are the same terminal: the bar is taken off its
  // line before records are written and drawn again after them, so that a
  // record never lands on the bar's line.
  bool out_shares_progress_terminal = false;
  std::ostream* summary = nullptr;  // the summary at the end, or none
  // The number of URLs when known in advance (for the progress bar's ETA).
  std::optional<std::size_t> expected_total{};
};

struct FetchTotals {
  std::size_t records = 0;
  std::size_t succeeded = 0;  // 2xx
  std::size_t failed = 0;     // anything else
  // Why reading the input failed, which ended it early (the URLs after that
  // point got no record); nullopt when it was read to its end.
  std::optional<std::string> input_error{};
};

// Fetches every URL; returns when each has been written. Runs on the
// caller's (single-threaded) executor. When a record cannot be written (a
// write or flush of `out` fails), the batch stops as --fail-fast would and
// fetch_all throws std::runtime_error saying so, after the summary.
boost::asio::awaitable<FetchTotals> fetch_all(FetchOptions options, FetchStreams streams);

// fetch_all on its own io_context. Returns the exit status: 0 when every
// URL got a 2xx (and the input was read to its end), 1 otherwise, 130 when
// interrupted by SIGINT or SIGTERM. Throws what fetch_all throws (the
// records could not be written).
int run_fetch(const FetchOptions& options, const FetchStreams& streams);

}  // namespace tailcut::cli::fetch
