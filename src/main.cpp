// The `tailcut` binary: one subcommand per job (serve, upstream, fetch, send).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/standard_streams.hpp"

namespace {

// "serve, upstream, fetch or send".
std::string subcommand_list(const CLI::App& app) {
  const auto subcommands = app.get_subcommands([](const CLI::App*) { return true; });
  std::string list;
  for (std::size_t i = 0; i < subcommands.size(); ++i) {
    if (i > 0) list += i + 1 == subcommands.size() ? " or " : ", ";
    list += subcommands[i]->get_name();
  }
  return list;
}

// CLI11 reports a missing subcommand even when the user typed one that does
// not exist: the word it did not take names the actual mistake.
std::string no_subcommand_message(const CLI::App& app) {
  const auto not_taken = app.remaining();
  const auto choices = subcommand_list(app);
  if (not_taken.empty()) return "a subcommand is required: " + choices + " (see tailcut --help)";
  const auto& word = not_taken.front();
  const auto kind = word.starts_with('-') ? "option" : "subcommand";
  return std::string{"unknown "} + kind + " '" + word + "'; the subcommands are " + choices +
         " (see tailcut --help)";
}

// One line, prefixed like the subcommands' own errors: "tailcut serve: ...".
std::string failure_message(const CLI::App* app, const CLI::Error& error) {
  const auto chosen = app->get_subcommands();
  if (chosen.empty()) {
    const bool no_subcommand = dynamic_cast<const CLI::RequiredError*>(&error) != nullptr &&
                               app->get_require_subcommand_min() > 0;
    return std::string{"tailcut: "} + (no_subcommand ? no_subcommand_message(*app) : error.what()) +
           "\n";
  }
  return "tailcut " + chosen.front()->get_name() + ": " + error.what() + "\n";
}

// Whether the command line asks for help (before any "--").
bool asks_for_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word{argv[i]};
    if (word == "--") return false;
    if (word == "-h" || word == "--help" || word == "--help-all") return true;
  }
  return false;
}

bool is_help_or_version(const CLI::ParseError& error) {
  return dynamic_cast<const CLI::CallForHelp*>(&error) != nullptr ||
         dynamic_cast<const CLI::CallForAllHelp*>(&error) != nullptr ||
         dynamic_cast<const CLI::CallForVersion*>(&error) != nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (!tailcut::cli::reopen_closed_standard_streams()) {
    constexpr std::string_view message =
        "tailcut: cannot open /dev/null for a closed standard "
        "descriptor (0, 1 or 2)\n";
    (void)!::write(STDERR_FILENO, message.data(), message.size());
    return 1;
  }
  CLI::App app{
      "tailcut: HTTP requests that finish fast and on time.\n"
      "Hedged requests within a deadline, bulk concurrent fetch and failover "
      "delivery."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tailcut 0.1.0");
  app.failure_message(failure_message);

  std::map<std::string, tailcut::cli::CommandRunner> runners;
  runners["serve"] = tailcut::cli::add_serve_command(app);
  runners["upstream"] = tailcut::cli::add_upstream_command(app);
  runners["fetch"] = tailcut::cli::add_fetch_command(app);
  runners["send"] = tailcut::cli::add_send_command(app);
  for (auto* subcommand : app.get_subcommands([](CLI::App*) { return true; })) {
    // CLI11 reads the environment variables of every subcommand without a
    // parse-complete callback, chosen or not: TAILCUT_THREADS=many broke
    // `tailcut fetch`. With one, it reads them only when it is chosen.
    subcommand->parse_complete_callback([] {});
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 checks the environment before it answers --help: a bad
    // variable (TAILCUT_THREADS=many) must not hide the help that explains it.
    if (!is_help_or_version(error) && asks_for_help(argc, argv)) {
      const auto chosen = app.get_subcommands();
      std::cout << (chosen.empty() ? app.help() : chosen.front()->help());
      std::cerr << failure_message(&app, error);  // still said, after the help
      return 0;
    }
    return app.exit(error) == 0 ? 0 : 2;
  }
  for (auto& [name, run] : runners) {
    if (app.got_subcommand(name)) return run();
  }
  return 2;
}
