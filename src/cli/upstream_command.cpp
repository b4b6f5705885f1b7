// `tailcut upstream`: runs the simulated unreliable upstream.
#include <fstream>
#include <iostream>
#include <map>
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

// The flags as typed. Every default that SimulatorOptions has comes from
// it (durations written as text, which the flags read back).
struct UpstreamFlags {
  explicit UpstreamFlags(const upstream::SimulatorOptions& defaults = {})
      : min_delay{duration_text(defaults.min_delay)},
        max_delay{duration_text(defaults.max_delay)},
        error_rate{defaults.error_rate},
        invalid_json_rate{defaults.invalid_json_rate},
        hang_rate{defaults.hang_rate},
        hang{duration_text(defaults.hang_duration)},
        heavy_tail{defaults.delay_model == upstream::DelayModel::heavy_tail},
        tail_rate{defaults.tail_rate},
        tail_min{duration_text(defaults.tail_min)},
        tail_max{duration_text(defaults.tail_max)},
        seed{defaults.seed} {}

  std::string listen = "127.0.0.1:8081";
  std::size_t threads = http::default_worker_count();
  std::size_t max_connections = http::ServerOptions{}.max_connections;
  std::string min_delay;
  std::string max_delay;
  double error_rate;
  double invalid_json_rate;
  double hang_rate;
  std::string hang;
  bool heavy_tail;
  double tail_rate;
  std::string tail_min;
  std::string tail_max;
  std::optional<std::uint64_t> seed;
  std::string script_file;
  // The former integer flags (--min-delay-ms ...), kept hidden so that
  // existing command lines still run; a duration flag given too wins.
  std::map<std::string, std::string> former_milliseconds;
};

// The duration of `flag`, or of its former integer flag `flag`-ms when
// only that one was given.
std::chrono::milliseconds duration_of(const UpstreamFlags& flags, const CLI::App& command,
                                      const std::string& flag, const std::string& text) {
  const auto former = flag + "-ms";
  if (command.count(flag) == 0 && command.count(former) > 0) {
    return parse_duration(flags.former_milliseconds.at(former), former);
  }
  return parse_duration(text, flag);
}

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

// The flags read into SimulatorOptions; upstream::validate then checks
// them all, naming the flag of the first one out of range.
upstream::SimulatorOptions to_options(const UpstreamFlags& flags, const CLI::App& command) {
  upstream::SimulatorOptions options;
  options.min_delay = duration_of(flags, command, "--min-delay", flags.min_delay);
  options.max_delay = duration_of(flags, command, "--max-delay", flags.max_delay);
  options.error_rate = flags.error_rate;
  options.invalid_json_rate = flags.invalid_json_rate;
  options.hang_rate = flags.hang_rate;
  options.hang_duration = duration_of(flags, command, "--hang", flags.hang);
  options.delay_model =
      flags.heavy_tail ? upstream::DelayModel::heavy_tail : upstream::DelayModel::uniform;
  options.tail_rate = flags.tail_rate;
  options.tail_min = duration_of(flags, command, "--tail-min", flags.tail_min);
  options.tail_max = duration_of(flags, command, "--tail-max", flags.tail_max);
  options.seed = flags.seed;
  if (!flags.script_file.empty()) options.script = read_script(flags.script_file);
  upstream::validate(options);
  return options;
}

int run_upstream(const UpstreamFlags& flags, const CLI::App& command) {
  try {
    auto simulator = std::make_shared<upstream::Simulator>(to_options(flags, command));

    const auto listen = parse_listen_address(flags.listen);
    http::ServerOptions server_options;
    server_options.address = listen.host;
    server_options.port = listen.port;
    server_options.threads = flags.threads;
    server_options.max_connections = flags.max_connections;
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
      "TAILCUT_UPSTREAM_LISTEN=127.0.0.1:8081); serve's TAILCUT_<FLAG> do not apply.\n"
      "Durations take a unit: 300ms, 2s, 1m (a bare number is milliseconds).");
  command->footer(
      "Exit status: 0 after a clean shutdown (SIGTERM or SIGINT); 2 on a usage error,\n"
      "or when it cannot start (e.g. cannot listen).");
  const auto flag = [command](const std::string& name, auto& value, const std::string& help) {
    return add_option_with_env(*command, environment_prefix, name, value, help);
  };
  const auto share = real_number(0.0, 1.0);
  // The former integer form of a duration flag, hidden from --help.
  const auto former_flag = [command, flags](const std::string& name) {
    command->add_option(name, flags->former_milliseconds[name])
        ->envname(environment_name(environment_prefix, name))
        ->group("");  // checked by parse_duration: CLI11 names no hidden flag in its errors
  };
  flag("--listen", flags->listen, "IP:PORT to listen on (port 0: any free port)");
  flag("--threads", flags->threads, "worker threads")->check(whole_number(1, 1024));
  flag("--max-connections", flags->max_connections, "open client connections at most")
      ->check(whole_number(1));
  flag("--min-delay", flags->min_delay, "shortest answer delay");
  flag("--max-delay", flags->max_delay, "longest answer delay");
  flag("--error-rate", flags->error_rate, "share of HTTP 500 answers")->check(share);
  flag("--invalid-json-rate", flags->invalid_json_rate,
       "share of HTTP 200 answers whose body is not JSON")
      ->check(share);
  flag("--hang-rate", flags->hang_rate, "share of requests that hang")->check(share);
  flag("--hang", flags->hang, "how long a hang lasts before the connection closes");
  command
      ->add_flag("--heavy-tail", flags->heavy_tail,
                 "heavy-tail mode: a few answers (--tail-rate) take --tail-min..--tail-max")
      ->envname(environment_name(environment_prefix, "--heavy-tail"));
  flag("--tail-rate", flags->tail_rate, "share of slow answers in heavy-tail mode")->check(share);
  flag("--tail-min", flags->tail_min, "shortest slow answer");
  flag("--tail-max", flags->tail_max, "longest slow answer");
  for (const auto* former :
       {"--min-delay-ms", "--max-delay-ms", "--hang-ms", "--tail-min-ms", "--tail-max-ms"}) {
    former_flag(former);
  }
  command->add_option("--seed", flags->seed, "random seed, to repeat a run")
      ->envname(environment_name(environment_prefix, "--seed"))
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  flag("--script", flags->script_file,
       "scripted mode: a JSON file [{\"delay_ms\":N,\"status\":S,\"body\":\"...\",\"hang\":false}, "
       "...]\n"
       "played in order, then again; other keys are rejected");
  return [flags, command] { return run_upstream(*flags, *command); };
}

}  // namespace tailcut::cli
