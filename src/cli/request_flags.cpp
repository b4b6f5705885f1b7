// add_request_flags, to_request_template and checked_ca_file.
#include "cli/request_flags.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "cli/option_helpers.hpp"
#include "tailcut/http/client_error.hpp"
#include "tailcut/http/tls.hpp"

namespace tailcut::cli {

namespace {

namespace beast_http = boost::beast::http;

beast_http::verb parse_method(const std::string& text) {
  std::string upper;
  for (const char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto verb = beast_http::string_to_verb(upper);
  switch (verb) {
    case beast_http::verb::get:
    case beast_http::verb::head:
    case beast_http::verb::post:
    case beast_http::verb::put:
    case beast_http::verb::patch:
    case beast_http::verb::delete_:
    case beast_http::verb::options:
      return verb;
    default:
      throw std::invalid_argument{"-X: '" + text +
                                  "' is not a supported method; use GET, HEAD, POST, PUT, PATCH, "
                                  "DELETE or OPTIONS"};
  }
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string{text};
}

http::HeaderField parse_header(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || trim(std::string_view{text}.substr(0, colon)).empty()) {
    throw std::invalid_argument{"-H: '" + text + "' is not a header; write it as 'Name: value'"};
  }
  http::HeaderField field{trim(std::string_view{text}.substr(0, colon)),
                          trim(std::string_view{text}.substr(colon + 1))};
  // The client's own check, which would otherwise fail every request.
  if (auto problem = http::request_header_problem(field)) {
    throw std::invalid_argument{"-H: " + *problem};
  }
  return field;
}

}  // namespace

void add_request_flags(CLI::App& command, RequestFlags& flags) {
  command.add_option("-X,--method", flags.method, "HTTP method")->capture_default_str();
  command.add_option("-H,--header", flags.headers, "a request header 'Name: value' (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--data", flags.data, "the request body, sent as is");
  command.add_option("--json", flags.json,
                     "a JSON request body (checked; sets Content-Type: application/json)");
  command.add_option("--ca-file", flags.ca_file,
                     "trust the CA certificates (PEM) in FILE for https instead of the system\n"
                     "store, e.g. a private CA's; without it the system store is used, which\n"
                     "OpenSSL also reads from SSL_CERT_FILE / SSL_CERT_DIR when set");
}

http::RequestOptions to_request_template(const RequestFlags& flags) {
  http::RequestOptions options;
  options.method = parse_method(flags.method);
  for (const auto& header : flags.headers) options.headers.push_back(parse_header(header));
  if (!flags.data.empty() && !flags.json.empty()) {
    throw std::invalid_argument{"--data and --json cannot be used together; pick one body"};
  }
  options.body = flags.data;
  if (!flags.json.empty()) {
    boost::system::error_code error;
    auto value = boost::json::parse(flags.json, error);
    if (error) {
      throw std::invalid_argument{"--json: the body is not valid JSON (" + error.message() + ")"};
    }
    options.json = std::move(value);
  }
  return options;
}

std::optional<std::filesystem::path> checked_ca_file(const std::string& ca_file) {
  if (ca_file.empty()) return std::nullopt;
  check_readable_file(ca_file, "--ca-file");
  http::SessionOptions session;
  session.ca_file = ca_file;
  try {
    (void)http::make_client_tls_context(session);  // loads the certificates, as a session will
  } catch (const http::ClientError& error) {
    throw std::invalid_argument{error.what()};  // names the file and --ca-file
  }
  return session.ca_file;
}

}  // namespace tailcut::cli
