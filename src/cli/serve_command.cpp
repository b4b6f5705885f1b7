// `tailcut serve`: placeholder until its issue lands.
#include <iostream>

#include "cli/commands.hpp"

namespace tailcut::cli {

CommandRunner add_serve_command(CLI::App& app) {
  app.add_subcommand("serve", "(not implemented yet)");
  return [] {
    std::cerr << "tailcut serve: not implemented yet\n";
    return 2;
  };
}

}  // namespace tailcut::cli
