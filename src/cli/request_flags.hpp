// The request flags shared by `tailcut fetch` and `tailcut send` (-X, -H,
// --data, --json, --ca-file) and their translation into a request template
// and the session's CA file.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
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
  std::string ca_file{};  // empty: the system store
};

// Adds -X/--method (defaulting to `flags.method`), -H/--header
// (repeatable), --data, --json and --ca-file to `command`.
void add_request_flags(CLI::App& command, RequestFlags& flags);

// A RequestOptions with method, headers and body set and no URL. Throws
// std::invalid_argument saying what is wrong (unknown method, a header
// without ':' or one the client would refuse to send, --json that is not
// JSON, --data together with --json).
http::RequestOptions to_request_template(const RequestFlags& flags);

// The CA file to trust, or nullopt for the system store. Throws
// std::invalid_argument when the file cannot be read or holds no
// certificate OpenSSL can load, so that it is a usage error at startup
// rather than a failure of every https request.
std::optional<std::filesystem::path> checked_ca_file(const std::string& ca_file);

}  // namespace tailcut::cli
