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
  std::ifstream file{path};
  if (!file) throw std::invalid_argument{"cannot read script file '" + path + "'"};
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
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
    if (!flags.script_file.empty())
      options.script = upstream::parse_script(read_file(flags.script_file));
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
    server.start();
    std::cout << "tailcut upstream listening on http://"
              << flags.listen.substr(0, flags.listen.rfind(':')) << ":" << server.port()
              << "/api/work" << std::endl;
    run_until_signal(server);
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
      "requests received, in flight, answered and aborted by the client.");
  const auto flag = [command](const std::string& name, auto& value, const std::string& help) {
    return add_option_with_env(*command, name, value, help);
  };
  flag("--listen", flags->listen, "HOST:PORT to listen on (port 0: any free port)");
  flag("--threads", flags->threads, "worker threads")->check(CLI::Range(1, 1024));
  flag("--min-delay-ms", flags->min_delay_ms, "shortest answer delay, ms")
      ->check(CLI::NonNegativeNumber);
  flag("--max-delay-ms", flags->max_delay_ms, "longest answer delay, ms")
      ->check(CLI::NonNegativeNumber);
  flag("--error-rate", flags->error_rate, "share of HTTP 500 answers")->check(CLI::Range(0.0, 1.0));
  flag("--invalid-json-rate", flags->invalid_json_rate,
       "share of HTTP 200 answers whose body is not JSON")
      ->check(CLI::Range(0.0, 1.0));
  flag("--hang-rate", flags->hang_rate, "share of requests that hang")->check(CLI::Range(0.0, 1.0));
  flag("--hang-ms", flags->hang_ms, "how long a hang lasts before the connection closes, ms")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_flag("--heavy-tail", flags->heavy_tail,
                 "heavy-tail mode: a few answers (--tail-rate) take --tail-min-ms..--tail-max-ms")
      ->envname("TAILCUT_HEAVY_TAIL");
  flag("--tail-rate", flags->tail_rate, "share of slow answers in heavy-tail mode")
      ->check(CLI::Range(0.0, 1.0));
  flag("--tail-min-ms", flags->tail_min_ms, "shortest slow answer, ms")
      ->check(CLI::NonNegativeNumber);
  flag("--tail-max-ms", flags->tail_max_ms, "longest slow answer, ms")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--seed", flags->seed, "random seed, to repeat a run")
      ->envname("TAILCUT_SEED");
  flag("--script", flags->script_file,
       "scripted mode: a JSON file [{\"delay_ms\":N,\"status\":S,\"body\":\"...\",\"hang\":false}, "
       "...]\n"
       "played in order, then again")
      ->check(CLI::ExistingFile);
  return [flags] { return run_upstream(*flags); };
}

}  // namespace tailcut::cli
