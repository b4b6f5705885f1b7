// Bytes from clients and upstreams made safe to write: as a JSON string that
// is always valid UTF-8, and quoted for a message or log line that they can
// neither end, forge nor hide in. The one place where tailcut escapes text.
#pragma once

#include <string>
#include <string_view>

namespace tailcut::http::detail {

// Appends `text` as a JSON string, quotes included: '"', '\' and control
// characters escaped, and each byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, so that any strict JSON reader takes it.
void append_json_string(std::string& out, std::string_view text);

// append_json_string to an empty string.
[[nodiscard]] std::string json_string(std::string_view text);

// `text` in double quotes for a message or log line: '"' and '\' escaped
// with '\'; C0 controls, DEL and bytes of no valid UTF-8 sequence as \xNN;
// C1 controls (U+0080-U+009F), line separators and bidirectional
// overrides (U+2028-U+202E, U+2066-U+2069) as \uNNNN. A client's bytes can
// then neither end the line (CR, LF), move the cursor, nor reorder what a
// terminal shows.
[[nodiscard]] std::string quoted_for_log(std::string_view text);

}  // namespace tailcut::http::detail
