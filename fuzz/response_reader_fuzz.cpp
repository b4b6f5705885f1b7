// The client's response parser (ResponseReader) on arbitrary bytes, as an
// upstream could send them, arriving in two reads split anywhere.
// Properties: it never crashes; it fails only with ErrorKind::protocol
// or ErrorKind::body_too_large; a response it completes has a final
// status (not 1xx but 101) and a body within the limit.
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "http/client/response_reader.hpp"

namespace {

using tailcut::http::ErrorKind;
using tailcut::http::detail::ExchangeLimits;
using tailcut::http::detail::ResponseReader;

constexpr std::size_t max_body_bytes = 4096;

void append(boost::beast::flat_buffer& buffer, std::string_view bytes) {
  const auto space = buffer.prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(space.data()));
  buffer.commit(bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Byte 0: where the two reads split; byte 1: whether the request was HEAD.
  if (size < 2) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 2, size - 2};
  const std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
  const ExchangeLimits limits{max_body_bytes, (data[1] & 1) != 0, nullptr};

  ResponseReader reader{limits, "127.0.0.1:1", "http://127.0.0.1:1/fuzz"};
  boost::beast::flat_buffer buffer;
  bool complete = false;
  for (const auto part : {bytes.substr(0, split), bytes.substr(split)}) {
    append(buffer, part);
    const auto fed = reader.feed(buffer);
    if (fed == ResponseReader::Fed::failed) {
      const boost::system::error_code& code = reader.error().code();
      FUZZ_CHECK(code == ErrorKind::protocol || code == ErrorKind::body_too_large);
      return 0;
    }
    if (fed == ResponseReader::Fed::complete) {
      complete = true;
      break;
    }
  }
  FUZZ_CHECK(!reader.progress().empty());
  if (!complete) complete = reader.finish_at_eof();
  if (!complete) return 0;
  const auto response = reader.take();
  FUZZ_CHECK(response.status >= 100 && response.status <= 999);
  FUZZ_CHECK(response.status >= 200 || response.status == 101);
  FUZZ_CHECK(response.body.size() <= max_body_bytes);
  if (limits.head_request) FUZZ_CHECK(response.body.empty());
  return 0;
}
