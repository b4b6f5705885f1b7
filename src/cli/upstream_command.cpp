// `tailcut upstream`: runs the simulated unreliable upstream.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/option_helpers.hpp"
#include "cli/server_runner.hpp"
#include "upstream/simulator.hpp"

namespace tailcut::cli {

namespace {

// TAILCUT_UPSTREAM_<FLAG>: not serve's TAILCUT_<FLAG>, so that a variable set
// for the gateway (TAILCUT_LISTEN, TAILCUT_THREADS) does not move the
// simulator too.
constexpr std::string_view environment_prefix = "TAILCUT_UPSTREAM_";

struct UpstreamFlags {
  std::string listen = "127.0.0.1:8081";
  std::size_t threads = http::default_worker_count();
  long min_delay_ms = 100;
  long max_delay_ms = 600;
  double error_rate = 0.10;
  double invalid_json_rate = 0.10;
  double hang_rate = 0.10;
  long hang_ms = 30'000;
  bool heavy_tail = false;
  double tail_rate = 0.02;
  long tail_min_ms = 1000;
  long tail_max_ms = 3000;
  std::optional<std::uint64_t> seed;
  std::string script_file;
};

std::string read_file(const std::string& path) {
  check_readable_file(path, "--script");  // says why not
  std::ifstream file{path};
  if (!file) throw std::invalid_argument{"--script: cannot read '" + path + "'"};
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<upstream::ScriptedAnswer> read_script(const std::string& path) {
  const auto text = read_file(path);
  try {
    return upstream::parse_script(text);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument{"--script " + path + ": " + error.what()};
  }
}

int run_upstream(const UpstreamFlags& flags) {
  try {
    using std::chrono::milliseconds;
    upstream::SimulatorOptions options;
    options.min_delay = milliseconds{flags.min_delay_ms};
    options.max_delay = milliseconds{flags.max_delay_ms};
    options.error_rate = flags.error_rate;
    options.invalid_json_rate = flags.invalid_json_rate;
    options.hang_rate = flags.hang_rate;
    options.hang_duration = milliseconds{flags.hang_ms};
    options.delay_model =
        flags.heavy_tail ? upstream::DelayModel::heavy_tail : upstream::DelayModel::uniform;
    options.tail_rate = flags.tail_rate;
    options.tail_min = milliseconds{flags.tail_min_ms};
    options.tail_max = milliseconds{flags.tail_max_ms};
    options.seed = flags.seed;
    if (!flags.script_file.empty()) options.script = read_script(flags.script_file);
    auto simulator = std::make_shared<upstream::Simulator>(options);

    const auto listen = parse_listen_address(flags.listen);
    http::ServerOptions server_options;
    server_options.address = listen.host;
    server_options.port = listen.port;
    server_options.threads = flags.threads;
    server_options.count_kernel_wait = false;  // the simulator keeps no deadlines
    http::Router router;
    upstream::add_routes(router, simulator);
    http::Server server{server_options, std::move(router)};
    StopSignals stop_signals;
    server.start();
    std::cout << "tailcut upstream listening on http://"
              << flags.listen.substr(0, flags.listen.rfind(':')) << ":" << server.port()
              << "/api/work" << std::endl;
    stop_signals.run_until_signal(server);
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "tailcut upstream: " << error.what() << "\n";
    return 2;
  }
}

}  // namespace

CommandRunner add_upstream_command(CLI::App& app) {
  auto flags = std::make_shared<UpstreamFlags>();
  auto* command = app.add_subcommand(
      "upstream",
      "Run the simulated unreliable upstream: GET /api/work answers {\"time\": N} after a\n"
      "sampled delay, with HTTP 500s, invalid JSON and hangs mixed in. GET /stats shows\n"
      "requests received, in flight, answered and aborted by the client.\n"
      "Every flag can also be set as TAILCUT_UPSTREAM_<FLAG> (e.g.\n"
      "TAILCUT_UPSTREAM_LISTEN=127.0.0.1:8081); serve's TAILCUT_<FLAG> do not apply.");
  command->footer(
      "Exit status: 0 after a clean shutdown (SIGTERM or SIGINT); 2 on a usage error,\n"
      "or when it cannot start (e.g. cannot listen).");
  const auto flag = [command](const std::string& name, auto& value, const std::string& help) {
    return add_option_with_env(*command, environment_prefix, name, value, help);
  };
  const auto milliseconds = whole_number(0, longest_duration.count(), "milliseconds");
  const auto share = real_number(0.0, 1.0);
  flag("--listen", flags->listen, "IP:PORT to listen on (port 0: any free port)");
  flag("--threads", flags->threads, "worker threads")->check(whole_number(1, 1024));
  flag("--min-delay-ms", flags->min_delay_ms, "shortest answer delay, ms")->check(milliseconds);
  flag("--max-delay-ms", flags->max_delay_ms, "longest answer delay, ms")->check(milliseconds);
  flag("--error-rate", flags->error_rate, "share of HTTP 500 answers")->check(share);
  flag("--invalid-json-rate", flags->invalid_json_rate,
       "share of HTTP 200 answers whose body is not JSON")
      ->check(share);
  flag("--hang-rate", flags->hang_rate, "share of requests that hang")->check(share);
  flag("--hang-ms", flags->hang_ms, "how long a hang lasts before the connection closes, ms")
      ->check(milliseconds);
  command
      ->add_flag("--heavy-tail", flags->heavy_tail,
                 "heavy-tail mode: a few answers (--tail-rate) take --tail-min-ms..--tail-max-ms")
      ->envname(environment_name(environment_prefix, "--heavy-tail"));
  flag("--tail-rate", flags->tail_rate, "share of slow answers in heavy-tail mode")->check(share);
  flag("--tail-min-ms", flags->tail_min_ms, "shortest slow answer, ms")->check(milliseconds);
  flag("--tail-max-ms", flags->tail_max_ms, "longest slow answer, ms")->check(milliseconds);
  command->add_option("--seed", flags->seed, "random seed, to repeat a run")
      ->envname(environment_name(environment_prefix, "--seed"))
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  flag("--script", flags->script_file,
       "scripted mode: a JSON file [{\"delay_ms\":N,\"status\":S,\"body\":\"...\",\"hang\":false}, "
       "...]\n"
       "played in order, then again; other keys are rejected");
  return [flags] { return run_upstream(*flags); };
}

}  // namespace tailcut::cli
