// The server's reading of a request out of its buffer (request_reader.hpp),
// on arbitrary bytes: the head fast path and Beast's parser must take the
// same decision on the head and the body's framing. Bit 0 of byte 0 asks
// for small limits, taken from its other bits; the other bytes are what the
// client sent. Properties:
// - with the fast path or with Beast's parser alone, the same outcome: the
//   same request from the same number of bytes, or the same refusal, or
//   both waiting for more;
// - a request read is one the server may serve (RFC 9112 3.2, 6): one Host
//   (HTTP/1.1), Transfer-Encoding only as one chunked alone in HTTP/1.1
//   without Content-Length, Content-Length as equal decimal numbers, and
//   the bytes it took are its head plus the length it announced;
// - read in two pieces (as the reads of a connection may bring it), the
//   same request as read whole; what is refused in pieces is not read as
//   a request whole.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "http/server/request_reader.hpp"

namespace {

using tailcut::http::Request;
using tailcut::http::ServerOptions;
using tailcut::http::detail::refusal_for;
using tailcut::http::detail::take_buffered_request;

void append(boost::beast::flat_buffer& buffer, std::string_view bytes) {
  const auto space = buffer.prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(space.data()));
  buffer.commit(bytes.size());
}

// What take_buffered_request made of a buffer.
struct Outcome {
  std::optional<Request> request;
  std::size_t used = 0;
  int refusal = 0;  // the status answered, 0 for none
  bool failed = false;
};

Outcome take(boost::beast::flat_buffer& buffer, const ServerOptions& options, bool fast_path) {
  Outcome outcome;
  const std::size_t before = buffer.size();
  boost::system::error_code error;
  outcome.request = take_buffered_request(buffer, options, error, fast_path);
  outcome.used = before - buffer.size();
  if (error) {
    outcome.failed = true;
    const std::string_view left{static_cast<const char*>(buffer.data().data()), buffer.size()};
    if (const auto refusal = refusal_for(error, left)) {
      outcome.refusal = static_cast<int>(refusal->status);
    }
  }
  return outcome;
}

Outcome take_whole(std::string_view bytes, const ServerOptions& options, bool fast_path) {
  boost::beast::flat_buffer buffer;
  append(buffer, bytes);
  return take(buffer, options, fast_path);
}

void check_same_request(const Request& a, const Request& b) {
  FUZZ_CHECK(a.method_string() == b.method_string());
  FUZZ_CHECK(a.target() == b.target());
  FUZZ_CHECK(a.version() == b.version());
  FUZZ_CHECK(a.body() == b.body());
  FUZZ_CHECK(a.keep_alive() == b.keep_alive());
  auto field = a.begin();
  for (const auto& other : b) {
    FUZZ_CHECK(field != a.end());
    FUZZ_CHECK(field->name_string() == other.name_string());
    FUZZ_CHECK(field->value() == other.value());
    ++field;
  }
  FUZZ_CHECK(field == a.end());
}

void check_same_outcome(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.request.has_value() == b.request.has_value());
  FUZZ_CHECK(a.failed == b.failed);
  FUZZ_CHECK(a.refusal == b.refusal);
  FUZZ_CHECK(a.used == b.used);
  if (a.request) check_same_request(*a.request, *b.request);
}

bool named(std::string_view name, std::string_view expected) {
  return boost::beast::iequals(name, expected);
}

// The properties of a request the server reads, checked on its fields
// without the code under test; `bytes` are those it was read from.
void check_servable(const Request& request, std::string_view bytes, std::size_t used) {
  std::size_t hosts = 0;
  std::size_t codings = 0;
  bool chunked_alone = false;
  std::optional<std::string> length_text;
  for (const auto& field : request) {
    const std::string_view name = field.name_string();
    if (named(name, "host")) ++hosts;
    if (named(name, "transfer-encoding")) {
      for (const auto coding : boost::beast::http::token_list{field.value()}) {
        ++codings;
        chunked_alone = named(coding, "chunked");
      }
      FUZZ_CHECK(request.version() == 11);
    }
    if (named(name, "content-length")) length_text = std::string{field.value()};
  }
  FUZZ_CHECK(hosts <= 1);
  if (request.version() >= 11) FUZZ_CHECK(hosts == 1);
  // Where the head ends, after the empty lines that may come first.
  std::size_t start = 0;
  while (bytes.substr(start, 2) == "\r\n") start += 2;
  const std::size_t head_end = bytes.find("\r\n\r\n", start);
  FUZZ_CHECK(head_end != std::string_view::npos);
  const std::size_t head_size = head_end + 4;
  if (codings > 0) {
    FUZZ_CHECK(codings == 1 && chunked_alone);
    FUZZ_CHECK(!length_text);
    FUZZ_CHECK(used >= head_size + 5);  // at least the last chunk, "0\r\n\r\n"
  } else {
    FUZZ_CHECK(used == head_size + request.body().size());
    if (length_text) {
      // Equal numbers, any of them the body's length.
      const std::string expected = std::to_string(request.body().size());
      for (const auto element : boost::beast::http::opt_token_list{*length_text}) {
        std::string_view digits{element.data(), element.size()};
        while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
        FUZZ_CHECK(digits == expected);
      }
    } else {
      FUZZ_CHECK(request.body().empty());
    }
  }
}

// Read from `bytes` cut at `cut`, as two reads would bring them: a request
// read from the first piece alone is the one read from the whole.
void check_in_two_pieces(std::string_view bytes, std::size_t cut, const ServerOptions& options,
                         const Outcome& whole) {
  boost::beast::flat_buffer buffer;
  append(buffer, bytes.substr(0, cut));
  Outcome first = take(buffer, options, true);
  if (first.failed) {
    // Refused from a part: not a request whole (the answer may differ, a
    // 505 needing the version's digits, say).
    FUZZ_CHECK(!whole.request);
    return;
  }
  if (first.request) {
    check_same_outcome(first, whole);
    return;
  }
  append(buffer, bytes.substr(cut));
  Outcome second = take(buffer, options, true);
  second.used += first.used;  // empty lines dropped by the first
  // Refused in pieces and waiting for more whole may differ: Beast refuses
  // some bytes only once their line is all there.
  if (second.request || whole.request) check_same_outcome(second, whole);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  ServerOptions options;
  if ((data[0] & 1) != 0) {
    const std::size_t limit_seed = data[0] >> 1;  // 0..127
    options.max_header_bytes = 32 + limit_seed * 2;
    options.max_body_bytes = limit_seed;
  }
  const Outcome fast = take_whole(bytes, options, true);
  const Outcome beast = take_whole(bytes, options, false);
  check_same_outcome(fast, beast);
  if (fast.request) check_servable(*fast.request, bytes, fast.used);
  if (!bytes.empty()) check_in_two_pieces(bytes, (data[0] * 7u) % bytes.size(), options, fast);
  return 0;
}
