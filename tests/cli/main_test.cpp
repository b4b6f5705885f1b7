// The `tailcut` binary's own errors: a missing or unknown subcommand.
#include <gtest/gtest.h>

#include "support/tailcut_binary.hpp"
#include "support/tailcut_process.hpp"

namespace tailcut::cli {
namespace {

using test::run_tailcut;

TEST(TailcutCommand, AnUnknownSubcommandIsNamedAndTheSubcommandsListed) {
  const auto exit = run_tailcut({"bogus"});
  EXPECT_EQ(exit.status, 2);
  EXPECT_EQ(exit.err,
            "tailcut: unknown subcommand 'bogus'; the subcommands are serve, upstream, fetch or "
            "send (see tailcut --help)\n");
}

TEST(TailcutCommand, AnUnknownOptionIsNamedAndTheSubcommandsListed) {
  const auto exit = run_tailcut({"--bogus"});
  EXPECT_EQ(exit.status, 2);
  EXPECT_EQ(exit.err,
            "tailcut: unknown option '--bogus'; the subcommands are serve, upstream, fetch or "
            "send (see tailcut --help)\n");
}

TEST(TailcutCommand, NoSubcommandListsThem) {
  const auto exit = run_tailcut({});
  EXPECT_EQ(exit.status, 2);
  EXPECT_EQ(exit.err,
            "tailcut: a subcommand is required: serve, upstream, fetch or send (see tailcut "
            "--help)\n");
}

TEST(TailcutCommand, ASubcommandsParseErrorsCarryItsPrefix) {
  const auto exit = run_tailcut({"upstream", "--listen", "127.0.0.1:0", "--bogus"});
  EXPECT_EQ(exit.status, 2);
  EXPECT_EQ(exit.err, "tailcut upstream: The following argument was not expected: --bogus\n");
}

TEST(TailcutCommand, ASubcommandsVariablesDoNotReachAnother) {
  // serve's and upstream's --threads checks used to run on this and fail.
  const auto exit = run_tailcut({"fetch", "--help"}, {"TAILCUT_THREADS=many"});
  EXPECT_EQ(exit.status, 0) << exit.err;
  EXPECT_EQ(exit.err, "");
}

TEST(TailcutCommand, HelpIsShownEvenWhenAVariableIsBad) {
  // CLI11 reads the environment first: the variable's error hid the help.
  const auto exit = run_tailcut({"serve", "--help"}, {"TAILCUT_THREADS=many"});
  EXPECT_EQ(exit.status, 0) << exit.err;
  EXPECT_NE(exit.out.find("--threads"), std::string::npos) << exit.out;
  EXPECT_NE(exit.err.find("'many'"), std::string::npos) << exit.err;  // the error, after
}

TEST(TailcutCommand, ABadVariableIsStillAnErrorWithoutHelp) {
  const auto exit = run_tailcut({"serve", "--listen", "127.0.0.1:0"}, {"TAILCUT_THREADS=many"});
  EXPECT_EQ(exit.status, 2);
  EXPECT_NE(exit.err.find("--threads"), std::string::npos) << exit.err;
}

}  // namespace
}  // namespace tailcut::cli
