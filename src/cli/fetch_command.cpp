// `tailcut fetch`: placeholder until its issue lands.
#include <iostream>

#include "cli/commands.hpp"

namespace tailcut::cli {

CommandRunner add_fetch_command(CLI::App& app) {
  app.add_subcommand("fetch", "(not implemented yet)");
  return [] {
    std::cerr << "tailcut fetch: not implemented yet\n";
    return 2;
  };
}

}  // namespace tailcut::cli
