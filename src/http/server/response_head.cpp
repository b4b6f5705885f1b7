// The head of a response as the server writes it: see response_head.hpp.
#include "response_head.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <iterator>

namespace tailcut::http::detail {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::string_view_literals;

bool asks_to_close(const Response& response) {
  for (const auto& token : bhttp::token_list{response[bhttp::field::connection]}) {
    if (beast::iequals(token, std::string_view{"close"})) return true;
  }
  return false;
}

bool has_no_body(bhttp::status status) {
  return bhttp::to_status_class(status) == bhttp::status_class::informational ||
         status == bhttp::status::no_content || status == bhttp::status::not_modified;
}

// Whether serialize_head writes this field itself (see Framing), in place
// of the handler's.
bool framed_by_server(const bhttp::fields::value_type& field, const Framing& framing) {
  switch (field.name()) {
    case bhttp::field::server:
    case bhttp::field::connection:
    case bhttp::field::transfer_encoding:
      return true;
    case bhttp::field::content_length:
      return framing.length != Framing::Length::handlers_own;
    case bhttp::field::unknown:
      return beast::iequals(field.name_string(), request_id_field);
    default:
      return false;
  }
}

constexpr std::size_t max_number_digits = 20;  // 2^64 - 1

void append_number(std::string& head, std::uint64_t number) {
  char digits[max_number_digits];
  const char* const end = std::to_chars(std::begin(digits), std::end(digits), number).ptr;
  head.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace

Framing finish(Response& response, const RequestFacts& facts, std::uint64_t request_id,
               bool shutting_down) {
  response.version(facts.version);
  Framing framing;
  framing.request_id = request_id;
  framing.keep_alive = facts.keep_alive && !asks_to_close(response) && !shutting_down;
  if (has_no_body(response.result())) {
    response.body().clear();
    framing.length = Framing::Length::none;
  } else if (facts.head && response.body().empty() && response.has_content_length()) {
    // A HEAD route's own Content-Length: the size the GET body would have.
    framing.length = Framing::Length::handlers_own;
  }
  return framing;
}

// The status line and header fields of a finished response (see finish()),
// in one buffer: written with the body in one gather write, without Beast's
// serializer, which costs more than the rest of sending a small answer.
std::string serialize_head(const Response& response, const Framing& framing) {
  std::string_view reason = response.reason();
  if (reason.empty()) reason = bhttp::obsolete_reason(response.result());
  // Room for all of it, so that the head is allocated once: the fixed parts
  // (the status line's and the server's own fields below, their longest
  // choices), the three numbers and the handler's fields.
  std::size_t size = 128 + reason.size() + 3 * max_number_digits;
  for (const auto& field : response) size += field.name_string().size() + field.value().size() + 4;
  std::string head;
  head.reserve(size);
  const bool http_1_0 = response.version() == 10;
  head.append(http_1_0 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv);
  append_number(head, response.result_int());
  head.append(" "sv);
  head.append(reason);
  head.append("\r\n"sv);
  for (const auto& field : response) {
    if (framed_by_server(field, framing)) continue;
    head.append(field.name_string());
    head.append(": "sv);
    head.append(field.value());
    head.append("\r\n"sv);
  }
  head.append("Server: tailcut\r\n"sv);
  head.append(request_id_field);
  head.append(": "sv);
  append_number(head, framing.request_id);
  head.append("\r\n"sv);
  if (!framing.keep_alive && !http_1_0) head.append("Connection: close\r\n"sv);
  if (framing.keep_alive && http_1_0) head.append("Connection: keep-alive\r\n"sv);
  if (framing.length == Framing::Length::of_body) {
    head.append("Content-Length: "sv);
    append_number(head, response.body().size());
    head.append("\r\n"sv);
  }
  head.append("\r\n"sv);
  return head;
}

}  // namespace tailcut::http::detail
