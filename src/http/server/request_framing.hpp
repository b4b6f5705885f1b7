// What a request's head says about where its body ends (RFC 9112 6) and
// whether it names its host properly (RFC 9112 3.2): one decision, taken
// the same way whichever parser read the head (the fast path in
// usual_request.cpp or Beast's in request_reader.cpp). A request whose
// framing is in doubt is refused and its connection closed: read with a
// framing other than the sender's, its body would be served as the next
// request (request smuggling).
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace tailcut::http::detail {

// Why a request head is refused. Each is answered 400, but
// unknown_transfer_coding (501) and closes the connection.
enum class FramingError {
  transfer_coding_not_chunked = 1,  // the last coding is not chunked (or chunked twice)
  unknown_transfer_coding,          // chunked last, after a coding not implemented here
  transfer_encoding_in_http_1_0,
  transfer_encoding_with_content_length,
  bad_content_length,          // not one decimal number (or a list of the same one)
  conflicting_content_length,  // different numbers
  missing_host,                // HTTP/1.1 without Host
  repeated_host,
  bad_host,              // not a host and an optional port
  framing_mismatch,      // Beast's parser framed the body otherwise (a safeguard)
  folded_framing_field,  // Host, Content-Length or Transfer-Encoding continued (obs-fold)
};

[[nodiscard]] const boost::system::error_category& framing_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(FramingError error) noexcept;

// How the body of an accepted request is delimited.
struct BodyFraming {
  enum class Kind { none, content_length, chunked };
  Kind kind = Kind::none;
  std::uint64_t length = 0;  // with content_length
};

// The fields of one request head that bear on its framing, noted one by one
// in wire order; decide() then judges them.
class FramingFields {
 public:
  // Notes one field; fields of other names are ignored.
  void note(std::string_view name, std::string_view value) noexcept;
  // Notes the fields continued on a further line (obs-fold, RFC 9112 5.2)
  // in `head`, the request head's bytes from its request line on: a parser
  // joins such lines, so their values no longer tell. Host, Content-Length
  // and Transfer-Encoding may not be continued (RFC 9112 5.2 lets a server
  // refuse them): a value read otherwise by another parser would frame the
  // body otherwise.
  void note_folds(std::string_view head) noexcept;

  // The body's framing for a request of `version` (10 or 11) with the noted
  // fields, or in `error` why it is refused.
  [[nodiscard]] BodyFraming decide(unsigned version,
                                   boost::system::error_code& error) const noexcept;

 private:
  void note_host(std::string_view value) noexcept;
  void note_content_length(std::string_view value) noexcept;
  void note_transfer_encoding(std::string_view value) noexcept;

  bool framing_field_folded_ = false;
  unsigned host_count_ = 0;
  bool host_valid_ = true;
  bool has_content_length_ = false;
  bool content_length_valid_ = true;
  bool content_length_conflicts_ = false;
  std::uint64_t content_length_ = 0;
  bool has_transfer_encoding_ = false;
  unsigned chunked_count_ = 0;
  bool last_coding_chunked_ = false;
  bool other_coding_ = false;
};

// The framing of a request whose fields are `fields` (a range of items with
// name_string() and value(), as Beast's), read from `head` (see
// FramingFields::note_folds), see FramingFields::decide.
template <typename Fields>
[[nodiscard]] BodyFraming decide_request_framing(unsigned version, const Fields& fields,
                                                 std::string_view head,
                                                 boost::system::error_code& error) noexcept {
  FramingFields noted;
  for (const auto& field : fields) noted.note(field.name_string(), field.value());
  noted.note_folds(head);
  return noted.decide(version, error);
}

}  // namespace tailcut::http::detail

template <>
struct boost::system::is_error_code_enum<tailcut::http::detail::FramingError> : std::true_type {};
