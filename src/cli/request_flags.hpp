// The request flags shared by `tailcut fetch` and `tailcut send` (-X, -H,
// --data, --json) and their translation into a request template.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "tailcut/http/session_options.hpp"

namespace tailcut::cli {

// The flags as typed; checked by to_request_template().
struct RequestFlags {
  std::string method;
  std::vector<std::string> headers;  // "Name: value"
  std::string data;
  std::string json;
};

// Adds -X/--method (defaulting to `flags.method`), -H/--header
// (repeatable), --data and --json to `command`.
void add_request_flags(CLI::App& command, RequestFlags& flags);

// A RequestOptions with method, headers and body set and no URL. Throws
// std::invalid_argument saying what is wrong (unknown method, a header
// without ':', --json that is not JSON, --data together with --json).
http::RequestOptions to_request_template(const RequestFlags& flags);

}  // namespace tailcut::cli
