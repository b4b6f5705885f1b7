// Reading a request out of a connection's buffer, apart from the socket:
// the head fast path first (usual_request.hpp), Beast's parser for the
// rest, the checks of request_framing.hpp on the head either way, and what
// the server answers a request it cannot read.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailcut/http/message.hpp"
#include "tailcut/http/server_options.hpp"

namespace tailcut::http::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// The server's size limits, on a request parser.
void set_limits(RequestParser& parser, const ServerOptions& options);

// RFC 9112 2.2: empty lines (CRLF) before a request line are dropped from
// the front of `buffer`, which is to start with a request.
void skip_empty_lines(boost::beast::flat_buffer& buffer);

// Whether `buffer` holds a lone CR, which may start an empty line: not to
// be given to Beast's parser (which refuses it) until more comes.
[[nodiscard]] bool is_lone_cr(const boost::beast::flat_buffer& buffer);

// Drops the empty lines at the front of `buffer`: whether what is left
// starts a request (not a lone CR, which may start one more empty line).
// Empty lines alone are no request yet: they start no header timeout.
[[nodiscard]] bool starts_request(boost::beast::flat_buffer& buffer);

// RFC 9110 2.5: a request in a higher minor version of HTTP/1 (HTTP/1.2 to
// HTTP/1.9) is served as HTTP/1.1; Beast refuses every version but 1.0 and
// 1.1, so the request line at the front of `buffer` is rewritten.
void read_higher_minor_version_as_1_1(boost::beast::flat_buffer& buffer);

// The fields of a chunked request's head, told from those its trailer
// section adds (see release_request); empty for other requests.
using HeadFields = std::vector<const Request::value_type*>;

// Once `parser` has read a head, whose bytes are `head_bytes`: sets `error`
// (request_framing.hpp) when its framing or Host is refused, or when Beast
// framed its body otherwise than the server's decision.
[[nodiscard]] HeadFields check_head(const RequestParser& parser, std::string_view head_bytes,
                                    boost::system::error_code& error);

// The request `parser` has read, without the fields of a chunked body's
// trailer section, which Beast adds to the head's (`head`): RFC 9112 7.1.2
// lets a recipient discard them, and merged they could change what the head
// said (its Host, its framing, a field a proxy trusts).
[[nodiscard]] Request release_request(RequestParser& parser, const HeadFields& head);

// The request at the front of `buffer`, when all of it is there: consumed
// and returned. Nullopt, with nothing consumed, when it is not all there
// yet; with `error` set when the bytes there are not a request to serve.
// `fast_path`: whether the head fast path may read it (false: Beast's
// parser alone, for the differential fuzzer).
[[nodiscard]] std::optional<Request> take_buffered_request(boost::beast::flat_buffer& buffer,
                                                           const ServerOptions& options,
                                                           boost::system::error_code& error,
                                                           bool fast_path = true);

// A request the server answers itself because it could not be read.
struct Refusal {
  boost::beast::http::status status;
  std::string_view code;
  std::string message;
};

// What to answer a request that failed to be read with `error`, `buffered`
// being what is left of it in the buffer; nullopt when there is nothing to
// answer (the client left, a timeout).
[[nodiscard]] std::optional<Refusal> refusal_for(const boost::system::error_code& error,
                                                 std::string_view buffered);

}  // namespace tailcut::http::detail
