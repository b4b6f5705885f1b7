// The server's side of the head fast path: see usual_request.hpp.
#include "usual_request.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "../common/head_parser.hpp"
#include "request_framing.hpp"

namespace tailcut::http::detail {

namespace {

namespace bhttp = boost::beast::http;

// As beast::http::parser<true, string_body> fills its message.
Request make_request(const ParsedHead& head, std::string_view body) {
  Request request;
  request.target(head.target);
  if (const bhttp::verb method = bhttp::string_to_verb(head.method);
      method != bhttp::verb::unknown) {
    request.method(method);
  } else {
    request.method_string(head.method);
  }
  request.version(static_cast<unsigned>(head.version));
  for (std::size_t i = 0; i < head.field_count; ++i) {
    const HeadField& field = head.fields[i];
    request.insert(bhttp::string_to_field(field.name), field.name, field.value);
  }
  request.body().assign(body);
  return request;
}

}  // namespace

std::optional<Request> read_usual_request(std::string_view bytes, const ServerOptions& options,
                                          std::size_t& used) {
  ParsedHead head;
  if (!parse_request_head(bytes, head) || head.size >= options.max_header_bytes) {
    return std::nullopt;
  }
  // The one framing decision (request_framing.hpp); what it refuses is left
  // to Beast's path, which refuses it the same way.
  FramingFields noted;
  for (std::size_t i = 0; i < head.field_count; ++i) {
    noted.note(head.fields[i].name, head.fields[i].value);
  }
  boost::system::error_code refused;
  const BodyFraming framing = noted.decide(static_cast<unsigned>(head.version), refused);
  if (refused || framing.kind == BodyFraming::Kind::chunked) return std::nullopt;
  const std::uint64_t length = framing.length;
  if (length > options.max_body_bytes || length > bytes.size() - head.size) return std::nullopt;
  used = head.size + static_cast<std::size_t>(length);
  return make_request(head, bytes.substr(head.size, static_cast<std::size_t>(length)));
}

}  // namespace tailcut::http::detail
