// The head of a response as the server writes it: the handler's fields,
// then the server's own (its name, the request id, the connection's fate,
// the body's length), in one buffer, without Beast's serializer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tailcut/http/message.hpp"

namespace tailcut::http::detail {

inline constexpr std::string_view request_id_field = "X-Request-Id";

// What the response depends on, taken before the request goes to the handler.
struct RequestFacts {
  unsigned version = 11;
  bool keep_alive = false;
  bool head = false;  // HEAD: send the header of the response only
};

// What the server writes in a response's head besides the handler's own
// fields (see serialize_head): its name, the request id, the connection's
// fate and the body's length. Written straight into the head rather than
// set as fields, which would cost an allocation and a search each.
struct Framing {
  enum class Length { none, of_body, handlers_own };
  std::uint64_t request_id = 0;
  bool keep_alive = false;
  Length length = Length::of_body;
};

// Completes a response for the wire: how it is framed, and with it whether
// the connection stays open after it.
[[nodiscard]] Framing finish(Response& response, const RequestFacts& facts,
                             std::uint64_t request_id, bool shutting_down);

// The status line and header fields of a finished response (see finish()),
// in one buffer: written with the body in one gather write.
[[nodiscard]] std::string serialize_head(const Response& response, const Framing& framing);

}  // namespace tailcut::http::detail
