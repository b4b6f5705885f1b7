// `tailcut serve`: the smart gateway.
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/option_helpers.hpp"
#include "cli/request_flags.hpp"
#include "cli/server_runner.hpp"
#include "gateway/gateway.hpp"
#include "gateway/gateway_options.hpp"

namespace tailcut::cli {

namespace {

// TAILCUT_<FLAG>: serve's flags in the environment (upstream has its own
// prefix, so that one variable never configures both).
constexpr std::string_view environment_prefix = "TAILCUT_";

// The flags as typed. Every default that GatewayOptions has comes from it
// (durations written as text, which the flags read back); the others are
// the command's own: the port, the log level, the simulator's seed, and the
// upstream connections shared among the workers.
struct ServeFlags {
  explicit ServeFlags(const gateway::GatewayOptions& defaults = {})
      : hedge_delay{duration_text(defaults.hedge_delay)},
        hedge_delay_min{duration_text(defaults.hedge_delay_min)},
        hedge_delay_max{duration_text(defaults.hedge_delay_max)},
        hedge_count{defaults.hedge_count},
        hedge_budget{defaults.hedge_budget_percent.value_or(0)},
        max_timeout{duration_text(defaults.max_timeout)},
        max_wait{duration_text(defaults.max_wait)},
        deadline_margin{duration_text(defaults.deadline_margin)},
        deadline_margin_max{duration_text(defaults.deadline_margin_max)},
        timeout_status{defaults.timeout_status},
        threads{defaults.server.threads},
        max_connections{defaults.server.max_connections},
        idle_timeout{duration_text(defaults.server.idle_timeout)},
        header_timeout{duration_text(defaults.server.header_timeout)},
        max_header_bytes{defaults.server.max_header_bytes},
        max_body_bytes{defaults.server.max_body_bytes},
        shutdown_grace{duration_text(defaults.server.shutdown_grace)},
        upstream_buffer_bytes{defaults.upstream_buffer_bytes},
        upstream_max_body_bytes{defaults.upstream_max_body_bytes},
        expose_upstream_errors{defaults.expose_upstream_errors} {
    hedge_on_failure =
        defaults.hedge_on_failure == policy::HedgeOnFailure::immediate ? "immediate" : "at-delay";
  }

  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> upstream;
  std::string hedge_delay;
  std::string hedge_delay_min;
  std::string hedge_delay_max;
  std::size_t hedge_count;
  std::string hedge_on_failure;
  double hedge_budget;
  // Whether --hedge-budget (or its variable) was given: without it, an
  // adaptive delay gets GatewayOptions' default budget for it.
  const CLI::Option* hedge_budget_option = nullptr;
  std::string max_timeout;
  std::string max_wait;
  std::string deadline_margin;
  std::string deadline_margin_max;
  unsigned timeout_status;
  std::size_t threads;
  std::string log_level = "info";
  std::size_t max_connections;
  std::string idle_timeout;
  std::string header_timeout;
  std::size_t max_header_bytes;
  std::size_t max_body_bytes;
  std::string shutdown_grace;
  // As many as the calls --max-connections admits could use at once with
  // their first attempt: a limit of 100 (the library's, aiohttp's) left a
  // load of 2,000 clients queueing for connections, 96 % of calls 504.
  std::size_t upstream_connections = 10'000;
  std::string ca_file;
  std::uint64_t simulator_seed = 0;  // 0: random
  std::size_t upstream_buffer_bytes;
  std::size_t upstream_max_body_bytes;
  bool expose_upstream_errors;
};

// The flags read into GatewayOptions; gateway::validate then checks them
// all, naming the flag of the first one out of range.
gateway::GatewayOptions to_options(const ServeFlags& flags) {
  gateway::GatewayOptions options;
  options.upstream_urls = flags.upstream;
  if (flags.hedge_delay == "auto") {
    options.adaptive_hedge_delay = true;  // hedge_delay stays the fallback
  } else {
    options.hedge_delay = parse_duration(flags.hedge_delay, "--hedge-delay");
  }
  options.hedge_delay_min = parse_duration(flags.hedge_delay_min, "--hedge-delay-min");
  options.hedge_delay_max = parse_duration(flags.hedge_delay_max, "--hedge-delay-max");
  options.hedge_count = flags.hedge_count;
  options.hedge_on_failure = flags.hedge_on_failure == "at-delay"
                                 ? policy::HedgeOnFailure::at_delay
                                 : policy::HedgeOnFailure::immediate;
  if (flags.hedge_budget_option == nullptr || flags.hedge_budget_option->count() > 0) {
    options.hedge_budget_percent = flags.hedge_budget;
  }
  options.max_timeout = parse_duration(flags.max_timeout, "--max-timeout");
  options.max_wait = parse_duration(flags.max_wait, "--max-wait");
  options.deadline_margin = parse_duration(flags.deadline_margin, "--deadline-margin");
  options.deadline_margin_max = parse_duration(flags.deadline_margin_max, "--deadline-margin-max");
  options.timeout_status = flags.timeout_status;
  options.expose_upstream_errors = flags.expose_upstream_errors;
  options.upstream_buffer_bytes = flags.upstream_buffer_bytes;
  options.upstream_max_body_bytes = flags.upstream_max_body_bytes;

  const auto listen = parse_listen_address(flags.listen);
  options.server.address = listen.host;
  options.server.port = listen.port;
  options.server.threads = flags.threads;
  options.server.max_connections = flags.max_connections;
  options.server.idle_timeout = parse_duration(flags.idle_timeout, "--idle-timeout");
  options.server.header_timeout = parse_duration(flags.header_timeout, "--header-timeout");
  options.server.max_header_bytes = flags.max_header_bytes;
  options.server.max_body_bytes = flags.max_body_bytes;
  options.server.shutdown_grace = parse_duration(flags.shutdown_grace, "--shutdown-grace");
  // Each worker has its own pool: share the total among them.
  options.client.connection_limit = std::max<std::size_t>(
      1, flags.upstream_connections / std::max<std::size_t>(1, flags.threads));
  if (auto ca_file = checked_ca_file(flags.ca_file)) options.client.ca_file = std::move(*ca_file);
  gateway::validate(options);
  return options;
}

std::string joined(const std::vector<std::string>& urls) {
  std::string text;
  for (const auto& url : urls) text += (text.empty() ? "" : ", ") + url;
  return text;
}

int run_serve(const ServeFlags& flags) {
  try {
    spdlog::set_level(spdlog::level::from_str(flags.log_level));
    upstream::SimulatorOptions simulator;
    if (flags.simulator_seed != 0) simulator.seed = flags.simulator_seed;
    gateway::Gateway gateway{to_options(flags), simulator};
    StopSignals stop_signals;
    gateway.start();
    const auto host = flags.listen.substr(0, flags.listen.rfind(':'));
    std::cout << "tailcut serve listening on http://" << host << ":" << gateway.port() << "\n"
              << "  upstream: " << joined(gateway.upstream_urls())
              << (flags.upstream.empty() ? " (embedded simulator)" : "") << "\n"
              << "  try: curl -i 'http://" << host << ":" << gateway.port()
              << "/api/smart?timeout=1000'" << std::endl;
    stop_signals.run_until_signal(gateway.server());
    gateway.stop();
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "tailcut serve: " << error.what() << "\n";
    return 2;
  }
}

}  // namespace

CommandRunner add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* command = app.add_subcommand(
      "serve",
      "Run the smart gateway: GET /api/smart?timeout=MS sends a request to the upstream,\n"
      "fires backup (hedged) requests when it is slow or fails, answers with the first\n"
      "success, and always answers within the timeout. Also GET /healthz, GET /metrics.\n"
      "Every flag can also be set as TAILCUT_<FLAG> (e.g. TAILCUT_HEDGE_DELAY=200ms);\n"
      "these variables are serve's only (upstream reads TAILCUT_UPSTREAM_<FLAG>).\n"
      "Durations take a unit: 300ms, 2s, 1m (a bare number is milliseconds).");
  command->footer(
      "Exit status: 0 after a clean shutdown (SIGTERM or SIGINT); 2 on a usage error,\n"
      "or when it cannot start (e.g. cannot listen).");
  const auto flag = [command](const std::string& name, auto& value, const std::string& help) {
    return add_option_with_env(*command, environment_prefix, name, value, help);
  };
  flag("--listen", flags->listen, "IP:PORT to listen on (port 0: any free port)");
  flag("--upstream", flags->upstream,
       "upstream URL (http or https), checked at start-up; give it again\n"
       "(or a comma-separated list) for replicas of one service, which may\n"
       "differ only in host and port; none: start the simulator in-process")
      ->delimiter(',');
  flag("--hedge-delay", flags->hedge_delay,
       "fire the extra attempts when no success came within this time;\n"
       "auto: the upstream's recent latency quantile that spends the hedge\n"
       "budget, within --hedge-delay-min..max (the default delay until it\n"
       "has seen 100 answers)");
  flag("--hedge-delay-min", flags->hedge_delay_min, "the shortest delay --hedge-delay auto picks");
  flag("--hedge-delay-max", flags->hedge_delay_max, "the longest delay --hedge-delay auto picks");
  flag("--hedge-count", flags->hedge_count, "extra attempts fired at the hedge delay (0 to 16)")
      ->check(whole_number(0));
  flag("--hedge-on-failure", flags->hedge_on_failure,
       "immediate: a failed first attempt fires the extras at once;\n"
       "at-delay: they wait for the hedge delay all the same")
      ->check(CLI::IsMember({"immediate", "at-delay"}));
  flags->hedge_budget_option =
      flag("--hedge-budget", flags->hedge_budget,
           "cap extra attempts at PERCENT of first attempts (token bucket);\n"
           "0: no cap; 5 by default with --hedge-delay auto")
          ->check(real_number(std::numeric_limits<double>::lowest(),
                              std::numeric_limits<double>::max(), "a percentage; 0: no cap"));
  flag("--max-timeout", flags->max_timeout,
       "largest accepted ?timeout= (a duration, at most 60m;\n"
       "a bare number is milliseconds)");
  flag("--max-wait", flags->max_wait, "bound of a call without ?timeout=");
  flag("--deadline-margin", flags->deadline_margin,
       "aim the answer at least this much before the deadline, so that\n"
       "it arrives in time (at most half the timeout)");
  flag("--deadline-margin-max", flags->deadline_margin_max,
       "on a busy machine timers run late: the margin grows by the worst\n"
       "lateness of the calls' timers in the last minute (10 ms assumed\n"
       "while none was measured), up to this; equal to --deadline-margin:\n"
       "a fixed margin");
  flag("--timeout-status", flags->timeout_status,
       "status when the deadline passes, 400 to 599\n"
       "(504, or 408 as some clients expect)")
      ->check(whole_number(0, 999));
  flag("--threads", flags->threads, "worker threads")->check(whole_number(1, 1024));
  flag("--log-level", flags->log_level, "trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  flag("--max-connections", flags->max_connections, "open client connections at most")
      ->check(whole_number(0));
  flag("--idle-timeout", flags->idle_timeout,
       "close keep-alive connections idle this long (more than 0)");
  flag("--header-timeout", flags->header_timeout,
       "time to receive a request's header (more than 0)");
  flag("--max-header-bytes", flags->max_header_bytes, "larger headers get 431")
      ->check(whole_number(0));
  flag("--max-body-bytes", flags->max_body_bytes, "larger bodies get 413")->check(whole_number(0));
  flag("--shutdown-grace", flags->shutdown_grace,
       "on SIGTERM/SIGINT, how long calls in flight may finish");
  flag("--upstream-connections", flags->upstream_connections,
       "upstream connections at most, shared among the workers;\n"
       "an attempt beyond it waits for one, within its deadline")
      ->check(whole_number(1, 1'000'000));
  flag("--upstream-buffer-bytes", flags->upstream_buffer_bytes,
       "upstream response bodies held at once, over all workers; an attempt\n"
       "whose body would pass it fails at once as too large (the call hedges\n"
       "on, or answers 502 saying so) rather than waiting for room")
      ->check(whole_number(1));
  flag("--upstream-max-body-bytes", flags->upstream_max_body_bytes,
       "an upstream response body larger than this fails its attempt")
      ->check(whole_number(1));
  flag("--ca-file", flags->ca_file, "CA certificates (PEM) to trust for an https upstream");
  flag("--simulator-seed", flags->simulator_seed, "seed of the embedded simulator (0: random)")
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  command
      ->add_flag("--expose-upstream-errors", flags->expose_upstream_errors,
                 "502 and 504 bodies name each attempt's upstream URL and address\n"
                 "(off: they say what failed without them; the log has them)")
      ->envname(environment_name(environment_prefix, "--expose-upstream-errors"));
  return [flags] { return run_serve(*flags); };
}

}  // namespace tailcut::cli
