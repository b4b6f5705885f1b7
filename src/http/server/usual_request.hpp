// The server's side of the head fast path (common/head_parser.hpp): a
// request of the usual shape, all in the buffer and within the server's
// limits, built as Beast's request parser builds it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "tailcut/http/message.hpp"
#include "tailcut/http/server_options.hpp"

namespace tailcut::http::detail {

// The request at the start of `bytes`, and in `used` how many bytes it
// took. Nullopt when it is not read here (not the usual shape, over a
// limit, or its body not all in `bytes`): Beast's parser then reads it, or
// says what is wrong.
[[nodiscard]] std::optional<Request> read_usual_request(std::string_view bytes,
                                                        const ServerOptions& options,
                                                        std::size_t& used);

}  // namespace tailcut::http::detail
