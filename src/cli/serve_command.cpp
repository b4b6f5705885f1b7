// `tailcut serve`: the smart gateway.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/option_helpers.hpp"
#include "cli/server_runner.hpp"
#include "gateway/gateway.hpp"

namespace tailcut::cli {

namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  std::string upstream;
  std::string hedge_delay = "300ms";
  std::size_t hedge_count = 2;
  std::string hedge_on_failure = "immediate";
  double hedge_budget = -1;  // negative: off
  long max_timeout_ms = 60'000;
  std::string max_wait = "30s";
  std::string deadline_margin = "3ms";
  std::string deadline_margin_max = "50ms";
  unsigned timeout_status = 504;
  std::size_t threads = http::default_worker_count();
  std::string log_level = "info";
  std::size_t max_connections = 10'000;
  std::string idle_timeout = "60s";
  std::string header_timeout = "10s";
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::string shutdown_grace = "30s";
  // As many as the calls --max-connections admits could use at once with
  // their first attempt: a limit of 100 (the library's, aiohttp's) left the
  // seed load of 2,000 clients queueing for connections, 96 % of calls 504.
  std::size_t upstream_connections = 10'000;
  std::string ca_file;
  std::uint64_t simulator_seed = 0;  // 0: random
};

gateway::GatewayOptions to_options(const ServeFlags& flags) {
  gateway::GatewayOptions options;
  options.upstream_url = flags.upstream;
  options.hedge_delay = parse_duration(flags.hedge_delay, "--hedge-delay");
  options.hedge_count = flags.hedge_count;
  if (flags.hedge_on_failure == "immediate") {
    options.hedge_on_failure = policy::HedgeOnFailure::immediate;
  } else if (flags.hedge_on_failure == "at-delay") {
    options.hedge_on_failure = policy::HedgeOnFailure::at_delay;
  } else {
    throw std::invalid_argument{"--hedge-on-failure must be 'immediate' or 'at-delay'"};
  }
  if (flags.hedge_budget >= 0) options.hedge_budget_percent = flags.hedge_budget;
  options.max_timeout = std::chrono::milliseconds{flags.max_timeout_ms};
  options.max_wait = parse_duration(flags.max_wait, "--max-wait");
  options.deadline_margin = parse_duration(flags.deadline_margin, "--deadline-margin");
  options.deadline_margin_max = parse_duration(flags.deadline_margin_max, "--deadline-margin-max");
  if (options.deadline_margin_max < options.deadline_margin) {
    throw std::invalid_argument{"--deadline-margin-max (" + flags.deadline_margin_max +
                                ") must be at least --deadline-margin (" + flags.deadline_margin +
                                ")"};
  }
  options.timeout_status = flags.timeout_status;

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
  options.client.connection_limit =
      std::max<std::size_t>(1, flags.upstream_connections / flags.threads);
  if (!flags.ca_file.empty()) options.client.ca_file = flags.ca_file;
  return options;
}

int run_serve(const ServeFlags& flags) {
  try {
    spdlog::set_level(spdlog::level::from_str(flags.log_level));
    upstream::SimulatorOptions simulator;
    if (flags.simulator_seed != 0) simulator.seed = flags.simulator_seed;
    gateway::Gateway gateway{to_options(flags), simulator};
    gateway.start();
    const auto host = flags.listen.substr(0, flags.listen.rfind(':'));
    std::cout << "tailcut serve listening on http://" << host << ":" << gateway.port() << "\n"
              << "  upstream: " << gateway.upstream_url()
              << (flags.upstream.empty() ? " (embedded simulator)" : "") << "\n"
              << "  try: curl -i 'http://" << host << ":" << gateway.port()
              << "/api/smart?timeout=1000'" << std::endl;
    run_until_signal(gateway.server());
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
      "Every flag can also be set as TAILCUT_<FLAG> (e.g. TAILCUT_HEDGE_DELAY=200ms).\n"
      "Durations take a unit: 300ms, 2s, 1m (a bare number is milliseconds).");
  auto& c = *command;
  add_option_with_env(c, "--listen", flags->listen, "HOST:PORT to listen on");
  add_option_with_env(c, "--upstream", flags->upstream,
                      "upstream URL (http or https); empty: start the simulator in-process");
  add_option_with_env(c, "--hedge-delay", flags->hedge_delay,
                      "fire the extra attempts when no success came within this time");
  add_option_with_env(c, "--hedge-count", flags->hedge_count,
                      "extra attempts fired at the hedge delay")
      ->check(CLI::Range(0, 16));
  add_option_with_env(c, "--hedge-on-failure", flags->hedge_on_failure,
                      "immediate: a failed first attempt fires the extras at once;\n"
                      "at-delay: they wait for the hedge delay (the seeds' behaviour)")
      ->check(CLI::IsMember({"immediate", "at-delay"}));
  add_option_with_env(c, "--hedge-budget", flags->hedge_budget,
                      "cap extra attempts at PERCENT of first attempts (token bucket);\n"
                      "negative: no cap");
  add_option_with_env(c, "--max-timeout", flags->max_timeout_ms, "largest accepted ?timeout=, ms")
      ->check(CLI::Range(1L, 3'600'000L));
  add_option_with_env(c, "--max-wait", flags->max_wait, "bound of a call without ?timeout=");
  add_option_with_env(c, "--deadline-margin", flags->deadline_margin,
                      "aim the answer at least this much before the deadline, so that\n"
                      "it arrives in time (at most half the timeout)");
  add_option_with_env(c, "--deadline-margin-max", flags->deadline_margin_max,
                      "on a busy machine timers run late: the margin grows by the worst\n"
                      "lateness of the calls' timers in the last minute (10 ms assumed\n"
                      "while none was measured), up to this; equal to --deadline-margin:\n"
                      "a fixed margin");
  add_option_with_env(c, "--timeout-status", flags->timeout_status,
                      "status when the deadline passes (504, or 408 as in the seeds)")
      ->check(CLI::Range(400u, 599u));
  add_option_with_env(c, "--threads", flags->threads, "worker threads")->check(CLI::Range(1, 1024));
  add_option_with_env(c, "--log-level", flags->log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  add_option_with_env(c, "--max-connections", flags->max_connections,
                      "open client connections at most");
  add_option_with_env(c, "--idle-timeout", flags->idle_timeout,
                      "close keep-alive connections idle this long");
  add_option_with_env(c, "--header-timeout", flags->header_timeout,
                      "time to receive a request's header");
  add_option_with_env(c, "--max-header-bytes", flags->max_header_bytes, "larger headers get 431");
  add_option_with_env(c, "--max-body-bytes", flags->max_body_bytes, "larger bodies get 413");
  add_option_with_env(c, "--shutdown-grace", flags->shutdown_grace,
                      "on SIGTERM/SIGINT, how long calls in flight may finish");
  add_option_with_env(c, "--upstream-connections", flags->upstream_connections,
                      "upstream connections at most, shared among the workers; an attempt "
                      "beyond it waits for one, within its deadline")
      ->check(CLI::Range(1, 1'000'000));
  add_option_with_env(c, "--ca-file", flags->ca_file,
                      "CA certificates (PEM) to trust for an https upstream");
  add_option_with_env(c, "--simulator-seed", flags->simulator_seed,
                      "seed of the embedded simulator (0: random)");
  return [flags] { return run_serve(*flags); };
}

}  // namespace tailcut::cli
