// `tailcut upstream`: placeholder until its issue lands.
#include <iostream>

#include "cli/commands.hpp"

namespace tailcut::cli {

CommandRunner add_upstream_command(CLI::App& app) {
  app.add_subcommand("upstream", "(not implemented yet)");
  return [] {
    std::cerr << "tailcut upstream: not implemented yet\n";
    return 2;
  };
}

}  // namespace tailcut::cli
