// `tailcut send`: placeholder until its issue lands.
#include <iostream>

#include "cli/commands.hpp"

namespace tailcut::cli {

CommandRunner add_send_command(CLI::App& app) {
  app.add_subcommand("send", "(not implemented yet)");
  return [] {
    std::cerr << "tailcut send: not implemented yet\n";
    return 2;
  };
}

}  // namespace tailcut::cli
