// The `tailcut` binary: one subcommand per job (serve, upstream, fetch, send).
#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "tailcut: HTTP requests that finish fast and on time.\n"
      "Hedged requests within a deadline, bulk concurrent fetch and failover "
      "delivery."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tailcut 0.1.0");

  std::map<std::string, tailcut::cli::CommandRunner> runners;
  runners["serve"] = tailcut::cli::add_serve_command(app);
  runners["upstream"] = tailcut::cli::add_upstream_command(app);
  runners["fetch"] = tailcut::cli::add_fetch_command(app);
  runners["send"] = tailcut::cli::add_send_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  for (auto& [name, run] : runners) {
    if (app.got_subcommand(name)) return run();
  }
  return 2;
}
