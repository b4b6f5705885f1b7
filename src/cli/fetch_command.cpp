// `tailcut fetch`: bulk concurrent fetch; flags to FetchOptions, streams
// opened, then cli::fetch::run_fetch does the work.
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>

#include "cli/commands.hpp"
#include "cli/fetch/fetch.hpp"
#include "cli/fetch/url_source.hpp"
#include "cli/option_helpers.hpp"
#include "cli/request_flags.hpp"
#include "cli/standard_streams.hpp"
#include "tailcut/policy/hedge_delay.hpp"

namespace tailcut::cli {

namespace {

// The flags as typed. Every default that FetchOptions has comes from it
// (durations written as text, which the flags read back).
struct FetchFlags {
  explicit FetchFlags(const fetch::FetchOptions& defaults = {})
      : concurrency{defaults.concurrency},
        per_host{defaults.per_host},
        timeout{duration_text(defaults.timeout)},
        connect_timeout{duration_text(defaults.connect_timeout)},
        order{defaults.order == fetch::OutputOrder::input ? "input" : "completion"},
        fail_fast{defaults.fail_fast},
        body{defaults.include_body},
        request{.method = std::string{boost::beast::http::to_string(defaults.request.method)},
                .headers = {},
                .data = {},
                .json = {},
                .ca_file = {}} {}

  std::vector<std::string> urls;
  std::string input;
  std::string output;
  std::size_t concurrency;
  std::size_t per_host;
  std::string timeout;
  std::string connect_timeout;
  std::string deadline;
  std::string order;
  bool fail_fast;
  std::string hedge;
  double hedge_budget = 0;
  // Whether --hedge-budget was given (its absence picks the default).
  const CLI::Option* hedge_budget_option = nullptr;
  bool body;
  RequestFlags request;
};

// "200ms:2" -> 200 ms, 2 extra attempts; "auto" or "auto:3" -> an adaptive
// delay, 2 or 3 extra attempts. Only the form is checked here; validate()
// checks the values.
fetch::HedgeSpec parse_hedge(const std::string& text) {
  const auto colon = text.rfind(':');
  const std::string_view head = std::string_view{text}.substr(0, colon);
  const std::string_view count =
      colon == std::string::npos ? std::string_view{} : std::string_view{text}.substr(colon + 1);
  fetch::HedgeSpec spec;
  spec.adaptive_delay = head == "auto";
  const bool count_optional = spec.adaptive_delay && colon == std::string::npos;
  if (!count_optional &&
      (count.empty() || count.find_first_not_of("0123456789") != std::string_view::npos)) {
    throw std::invalid_argument{
        "--hedge: '" + text +
        "' is not DELAY:COUNT nor auto[:COUNT]; use e.g. 200ms:2 (fire 2 more attempts when no "
        "answer came within 200 ms) or auto:2 (a delay per host that follows its latency)"};
  }
  if (count_optional) {
    spec.extra_attempts = fetch::FetchOptions::default_hedge_extra_attempts;
    return spec;
  }
  if (!spec.adaptive_delay) spec.delay = parse_duration(head, "--hedge");
  const auto parsed =
      std::from_chars(count.data(), count.data() + count.size(), spec.extra_attempts);
  if (parsed.ec != std::errc{}) {  // validate() says how many are allowed
    spec.extra_attempts = std::numeric_limits<std::size_t>::max();
  }
  return spec;
}

fetch::FetchOptions to_options(const FetchFlags& flags) {
  fetch::FetchOptions options;
  options.concurrency = flags.concurrency;
  options.per_host = flags.per_host;
  options.timeout = parse_duration(flags.timeout, "--timeout");
  options.connect_timeout = parse_duration(flags.connect_timeout, "--connect-timeout");
  if (!flags.deadline.empty()) options.deadline = parse_duration(flags.deadline, "--deadline");
  options.order =
      flags.order == "completion" ? fetch::OutputOrder::completion : fetch::OutputOrder::input;
  options.fail_fast = flags.fail_fast;
  if (!flags.hedge.empty()) options.hedge = parse_hedge(flags.hedge);
  if (flags.hedge_budget_option != nullptr && flags.hedge_budget_option->count() > 0) {
    options.hedge_budget_percent = flags.hedge_budget;
  }
  options.request = to_request_template(flags.request);
  options.include_body = flags.body;
  options.ca_file = checked_ca_file(flags.request.ca_file);
  fetch::validate(options);
  return options;
}

// The URLs of a file, counted ahead for the progress bar's ETA.
std::size_t count_urls(const std::string& path) {
  std::ifstream file{path};
  std::size_t count = 0;
  for (std::string line; std::getline(file, line);) {
    if (fetch::url_of_line(line)) ++count;
  }
  return count;
}

// Whether both descriptors are the same terminal (a shell's usual stdout
// and stderr), where the progress bar and the records share the screen.
bool same_terminal(int descriptor, int other) {
  struct stat facts {};
  struct stat other_facts {};
  return ::isatty(descriptor) == 1 && ::isatty(other) == 1 && ::fstat(descriptor, &facts) == 0 &&
         ::fstat(other, &other_facts) == 0 && facts.st_rdev == other_facts.st_rdev;
}

int run_fetch_command(const FetchFlags& flags) {
  fetch::FetchOptions options;
  fetch::FetchStreams streams;
  std::ifstream input_file;
  std::ofstream output_file;
  try {
    options = to_options(flags);
    if (flags.urls.empty() && flags.input.empty()) {
      throw std::invalid_argument{"no URLs: give them as arguments, or -i FILE (-i - for stdin)"};
    }
    streams.urls = flags.urls;
    if (flags.input == "-" && was_closed_at_start(STDIN_FILENO)) {
      throw std::invalid_argument{
          "-i -: standard input is closed; give the URLs as arguments, or -i FILE"};
    }
    if (flags.input == "-" && fetch::is_waitable_input(STDIN_FILENO)) {
      streams.input_descriptor = STDIN_FILENO;  // a pipe or terminal: never blocks the requests
    } else if (flags.input == "-") {
      streams.input = &std::cin;
    } else if (!flags.input.empty()) {
      check_readable_file(flags.input, "-i");
      input_file.open(flags.input);
      if (!input_file) throw std::invalid_argument{"-i: cannot read '" + flags.input + "'"};
      streams.input = &input_file;
    }
    streams.out = &std::cout;
    if (!flags.output.empty()) {
      output_file.open(flags.output, std::ios::out | std::ios::trunc);
      if (!output_file) throw std::invalid_argument{"-o: cannot write '" + flags.output + "'"};
      streams.out = &output_file;
      streams.out_name = "'" + flags.output + "'";
    }
  } catch (const std::exception& error) {
    std::cerr << "tailcut fetch: " << error.what() << "\n";
    return 2;
  }
  if (flags.output.empty() && was_closed_at_start(STDOUT_FILENO)) {
    std::cerr << "tailcut fetch: standard output is closed: the records would be lost; "
                 "write them to a file with -o FILE\n";
    return 1;
  }
  if (::isatty(STDERR_FILENO) == 1) {
    streams.progress = &std::cerr;
    streams.out_shares_progress_terminal =
        streams.out == &std::cout && same_terminal(STDOUT_FILENO, STDERR_FILENO);
    if (streams.input == nullptr && streams.input_descriptor == -1) {
      streams.expected_total = flags.urls.size();
    } else if (streams.input == &input_file) {
      streams.expected_total = flags.urls.size() + count_urls(flags.input);
    }
  }
  streams.summary = &std::cerr;
  std::ios::sync_with_stdio(false);
  try {
    return fetch::run_fetch(options, streams);
  } catch (const std::exception& error) {
    std::cerr << "tailcut fetch: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace

CommandRunner add_fetch_command(CLI::App& app) {
  auto flags = std::make_shared<FetchFlags>();
  auto* command = app.add_subcommand(
      "fetch",
      "Fetch many URLs concurrently; one JSON line per URL on stdout:\n"
      "  "
      "{\"url\",\"status\",\"ms\",\"bytes\",\"attempts\",\"error\":{\"category\",\"message\"}|null}"
      "\n"
      "\"error\" says why no answer came; it is null when the server answered, whatever\n"
      "the status: a URL failed when its status is not 2xx (null included), e.g.\n"
      "  jq -c 'select(.status == null or .status < 200 or .status > 299)'\n"
      "URLs come from the arguments, then from -i FILE (-i - for stdin), one per line\n"
      "(blank lines and # comments skipped), read as capacity frees up. A progress bar\n"
      "and a summary go to stderr. Exit status: 0 when every URL got a 2xx, 1 when any\n"
      "did not, the input could not be read to its end, or the records could not be\n"
      "written (a write to stdout or -o FILE failed, or stdout is closed: said on\n"
      "stderr, and the batch stops), 2 on a usage error, 130 when interrupted (what was\n"
      "in flight is reported cancelled). Text that is not valid UTF-8 (in a URL, an error\n"
      "or a --body) has U+FFFD in place of its invalid bytes. Durations take a unit:\n"
      "300ms, 2s, 1m.");
  auto& c = *command;
  c.add_option("urls", flags->urls, "URLs to fetch");
  c.add_option("-i,--input", flags->input, "read URLs from FILE, one per line ('-': stdin)");
  c.add_option("-o,--output", flags->output, "write the JSON lines to FILE instead of stdout");
  c.add_option("--concurrency", flags->concurrency, "URLs in flight at once")
      ->capture_default_str()
      ->check(whole_number(0, 100'000));
  c.add_option("--per-host", flags->per_host, "requests in flight to one host (0: no limit)")
      ->capture_default_str()
      ->check(whole_number(0, 100'000));
  c.add_option("--timeout", flags->timeout,
               "one URL's whole request (hedged attempts included); must be positive")
      ->capture_default_str();
  c.add_option("--connect-timeout", flags->connect_timeout,
               "DNS + TCP + TLS of one connection; must be positive")
      ->capture_default_str();
  c.add_option("--deadline", flags->deadline,
               "the whole batch: then requests in flight are cancelled and every URL\n"
               "not done is reported with error \"deadline\"");
  c.add_option("--order", flags->order,
               "input: records in the order of the URLs; completion: as each ends")
      ->capture_default_str()
      ->check(CLI::IsMember({"input", "completion"}));
  c.add_flag("--fail-fast", flags->fail_fast,
             "on the first failure (error or non-2xx), cancel the rest (reported \"cancelled\")");
  c.add_option("--hedge", flags->hedge,
               "DELAY:COUNT: when no answer came within DELAY, fire COUNT (0 to 16) more\n"
               "attempts; the first success wins (a 5xx counts as a failure).\n"
               "auto[:COUNT] (COUNT " +
                   std::to_string(fetch::FetchOptions::default_hedge_extra_attempts) +
                   " by default): each host's delay is its recent latency\n"
                   "quantile that spends the --hedge-budget (" +
                   duration_text(fetch::HedgeSpec{}.delay) + " until " +
                   std::to_string(policy::AdaptiveDelayOptions{}.min_samples) + " answers)");
  flags->hedge_budget_option =
      c.add_option("--hedge-budget", flags->hedge_budget,
                   "cap each host's extra attempts at PERCENT of its first attempts;\n"
                   "0: no cap; 5 by default with --hedge auto")
          ->type_name("PERCENT")
          ->check(real_number(std::numeric_limits<double>::lowest(),
                              std::numeric_limits<double>::max(), "a percentage; 0: no cap"));
  c.add_flag("--body", flags->body, "include each response body in its record");
  add_request_flags(c, flags->request);
  return [flags] { return run_fetch_command(*flags); };
}

}  // namespace tailcut::cli
