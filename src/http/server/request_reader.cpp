// Reading a request out of a connection's buffer: see request_reader.hpp.
#include "request_reader.hpp"

#include <algorithm>
#include <boost/beast/http/error.hpp>

#include "request_framing.hpp"
#include "usual_request.hpp"

namespace tailcut::http::detail {

namespace {

namespace bhttp = boost::beast::http;
using namespace std::string_view_literals;

std::string_view buffered_text(const boost::beast::flat_buffer& buffer) {
  return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

// The major version a request line names, when it names one in the
// HTTP/d.d form (Beast reports every version but 1.0 and 1.1 as bad,
// malformed or not). `buffered` starts with the request line.
std::optional<char> major_version_named(std::string_view buffered) {
  const auto line_end = buffered.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  const auto line = buffered.substr(0, line_end);
  const auto version = line.substr(line.rfind(' ') + 1);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || !version.starts_with("HTTP/") || !digit(version[5]) ||
      version[6] != '.' || !digit(version[7])) {
    return std::nullopt;
  }
  return version[5];
}

// Beast's parser on the buffered bytes (see take_buffered_request).
std::optional<Request> parse_buffered_request(boost::beast::flat_buffer& buffer,
                                              const ServerOptions& options,
                                              boost::system::error_code& error) {
  read_higher_minor_version_as_1_1(buffer);
  RequestParser parser;
  set_limits(parser, options);
  const boost::asio::const_buffer bytes = buffer.data();
  std::size_t used = 0;
  HeadFields head;
  while (!parser.is_done() && used < bytes.size()) {
    const bool head_was_done = parser.is_header_done();
    const std::size_t parsed = parser.put(bytes + used, error);
    used += parsed;
    if (error == bhttp::error::need_more) {
      error = {};
      return std::nullopt;
    }
    if (!error && !head_was_done && parser.is_header_done()) {
      // Beast reads a head in one piece, once all of it is there.
      const std::string_view head_bytes{static_cast<const char*>(bytes.data()) + used - parsed,
                                        parsed};
      head = check_head(parser, head_bytes, error);
    }
    if (error) return std::nullopt;
    if (parsed == 0) break;
    // A body announced but not all here: left to the reads, before this
    // parser reserves room for it only to be thrown away.
    if (parser.is_header_done() && !parser.is_done()) {
      const auto length = parser.content_length();
      if (length && *length > bytes.size() - used) return std::nullopt;
    }
  }
  if (!parser.is_done()) return std::nullopt;  // the rest is yet to come
  buffer.consume(used);
  return release_request(parser, head);
}

}  // namespace

void set_limits(RequestParser& parser, const ServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
}

void skip_empty_lines(boost::beast::flat_buffer& buffer) {
  const std::string_view buffered = buffered_text(buffer);
  std::size_t empty = 0;
  while (buffered.substr(empty, 2) == "\r\n"sv) empty += 2;
  buffer.consume(empty);
}

bool is_lone_cr(const boost::beast::flat_buffer& buffer) { return buffered_text(buffer) == "\r"sv; }

bool starts_request(boost::beast::flat_buffer& buffer) {
  skip_empty_lines(buffer);
  return buffer.size() > 0 && !is_lone_cr(buffer);
}

void read_higher_minor_version_as_1_1(boost::beast::flat_buffer& buffer) {
  char* const bytes = static_cast<char*>(buffer.data().data());
  const std::string_view buffered{bytes, buffer.size()};
  // Beast reads the version as soon as it is there, before the line's end.
  std::size_t line_end = buffered.find('\r');
  if (line_end == std::string_view::npos) line_end = buffered.size();
  constexpr std::size_t version_size = 8;  // HTTP/d.d
  if (line_end <= version_size) return;
  char* const version = bytes + line_end - version_size;
  if (version[-1] == ' ' && std::string_view{version, version_size - 1} == "HTTP/1."sv &&
      version[version_size - 1] >= '2' && version[version_size - 1] <= '9') {
    version[version_size - 1] = '1';
  }
}

HeadFields check_head(const RequestParser& parser, std::string_view head_bytes,
                      boost::system::error_code& error) {
  const Request& request = parser.get();
  const BodyFraming framing = decide_request_framing(request.version(), request, head_bytes, error);
  if (error) return {};
  const auto beast_length = parser.content_length();
  bool agrees = false;
  switch (framing.kind) {
    case BodyFraming::Kind::none:
      agrees = !parser.chunked() && !beast_length;
      break;
    case BodyFraming::Kind::content_length:
      agrees = !parser.chunked() && beast_length && *beast_length == framing.length;
      break;
    case BodyFraming::Kind::chunked:
      agrees = parser.chunked();
      break;
  }
  if (!agrees) error = FramingError::framing_mismatch;
  HeadFields head;
  if (framing.kind != BodyFraming::Kind::chunked) return head;
  for (const auto& field : request) head.push_back(&field);
  std::sort(head.begin(), head.end());
  return head;
}

Request release_request(RequestParser& parser, const HeadFields& head) {
  const bool chunked = parser.chunked();
  Request request = parser.release();
  if (!chunked) return request;
  // Beast inserts a field after the last of its name: not in wire order.
  for (auto field = request.begin(); field != request.end();) {
    if (std::binary_search(head.begin(), head.end(), &*field)) {
      ++field;
    } else {
      field = request.erase(field);
    }
  }
  return request;
}

std::optional<Request> take_buffered_request(boost::beast::flat_buffer& buffer,
                                             const ServerOptions& options,
                                             boost::system::error_code& error, bool fast_path) {
  if (!starts_request(buffer)) return std::nullopt;
  if (fast_path) {
    std::size_t usual_bytes = 0;
    if (auto request = read_usual_request(buffered_text(buffer), options, usual_bytes)) {
      buffer.consume(usual_bytes);
      return request;
    }
  }
  // Not the usual shape, over a limit, or not all here: Beast reads what
  // there is, or says what is wrong.
  return parse_buffered_request(buffer, options, error);
}

std::optional<Refusal> refusal_for(const boost::system::error_code& error,
                                   std::string_view buffered) {
  if (error == bhttp::error::bad_version) {
    // RFC 9110 15.6.6: another major version of HTTP is a 505, not a
    // malformed request.
    if (const auto major = major_version_named(buffered); major && *major != '1') {
      return Refusal{
          bhttp::status::http_version_not_supported, "http_version_not_supported",
          "this server speaks HTTP/1.1 and HTTP/1.0, not HTTP/" + std::string{*major} + ".x"};
    }
  }
  if (error == bhttp::error::header_limit) {
    return Refusal{bhttp::status::request_header_fields_too_large, "header_too_large",
                   "the request header is larger than the server accepts"};
  }
  if (error == bhttp::error::body_limit) {
    return Refusal{bhttp::status::payload_too_large, "body_too_large",
                   "the request body is larger than the server accepts"};
  }
  if (error == FramingError::unknown_transfer_coding) {
    return Refusal{bhttp::status::not_implemented, "not_implemented",
                   "the request is refused: " + error.message()};
  }
  if (error.category() == framing_category()) {
    return Refusal{bhttp::status::bad_request, "bad_request",
                   "the request is not valid HTTP/1.1: " + error.message()};
  }
  if (error == bhttp::error::end_of_stream || error == bhttp::error::partial_message) {
    return std::nullopt;  // the client left
  }
  if (error.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return Refusal{bhttp::status::bad_request, "bad_request",
                   "the request is not valid HTTP/1.1: " + error.message()};
  }
  return std::nullopt;  // timeout, reset, shutdown: nothing to answer
}

}  // namespace tailcut::http::detail
