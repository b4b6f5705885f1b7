// The subcommands of the `tailcut` binary. Each adds itself to the CLI11 app
// and returns the exit status when it was selected.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace tailcut::cli {

// A subcommand's runner, called after parsing when it was selected.
using CommandRunner = std::function<int()>;

CommandRunner add_serve_command(CLI::App& app);
CommandRunner add_upstream_command(CLI::App& app);
CommandRunner add_fetch_command(CLI::App& app);
CommandRunner add_send_command(CLI::App& app);

}  // namespace tailcut::cli
