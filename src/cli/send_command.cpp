// `tailcut send`: failover delivery; flags to SendOptions, then
// cli::send::run_send does the work.
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/option_helpers.hpp"
#include "cli/request_flags.hpp"
#include "cli/send/send.hpp"
#include "cli/standard_streams.hpp"

namespace tailcut::cli {

namespace {

// The flags as typed. Every default that SendOptions has comes from it
// (durations written as text, which the flags read back).
struct SendFlags {
  explicit SendFlags(const send::SendOptions& defaults = {})
      : per_try{duration_text(defaults.per_try)},
        linger{duration_text(defaults.linger)},
        request{.method = std::string{boost::beast::http::to_string(defaults.request.method)},
                .headers = {},
                .data = {},
                .json = {},
                .ca_file = {}} {}

  std::vector<std::string> endpoints;
  std::string per_try;
  std::string linger;
  RequestFlags request;
};

int run_send_command(const SendFlags& flags) {
  send::SendOptions options;
  try {
    options.endpoints = flags.endpoints;
    options.per_try = parse_duration(flags.per_try, "--per-try");
    options.linger = parse_duration(flags.linger, "--linger");
    options.request = to_request_template(flags.request);
    options.ca_file = checked_ca_file(flags.request.ca_file);
    send::validate(options);
  } catch (const std::exception& error) {
    std::cerr << "tailcut send: " << error.what() << "\n";
    return 2;
  }
  if (was_closed_at_start(STDOUT_FILENO)) {
    std::cerr << "tailcut send: standard output is closed: the events would be lost; nothing "
                 "was sent\n";
    return 1;
  }
  try {
    return send::run_send(options, std::cout, &std::cerr);
  } catch (const std::exception& error) {
    std::cerr << "tailcut send: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace

CommandRunner add_send_command(CLI::App& app) {
  auto flags = std::make_shared<SendFlags>();
  auto* command = app.add_subcommand(
      "send",
      "Deliver one request with failover: send to the first --to endpoint; when it has\n"
      "not answered 2xx within --per-try (or failed), send to the next one as well,\n"
      "without cancelling the earlier ones. The first 2xx is reported at once; then, for\n"
      "up to --linger, every other endpoint that also took the request (or failed) is\n"
      "reported; what is still in flight then is cancelled and reported \"unknown\".\n"
      "One JSON event per line on stdout:\n"
      "  "
      "{\"event\":\"delivered|also_delivered|failed|unknown\",\"url\",\"status\",\"ms\",\"error\"}"
      "\n"
      "Exit status: 0 delivered, 1 not delivered or the events could not be written (a\n"
      "write to stdout failed, said on stderr, or stdout is closed: then nothing is sent),\n"
      "2 usage error (checked before anything is sent: every --to must be an http:// or\n"
      "https:// URL). Redirects are not followed. Text that is not valid UTF-8 (in a URL or\n"
      "an error) has U+FFFD in place of its invalid bytes.");
  auto& c = *command;
  c.add_option("--to", flags->endpoints, "an endpoint URL; repeat it, in the order to try them")
      ->required()
      ->allow_extra_args(false);
  c.add_option("--per-try", flags->per_try, "time an endpoint has before the next one is tried")
      ->capture_default_str();
  c.add_option("--linger", flags->linger,
               "after the delivery, how long the other attempts may still report")
      ->capture_default_str();
  add_request_flags(c, flags->request);
  return [flags] { return run_send_command(*flags); };
}

}  // namespace tailcut::cli
