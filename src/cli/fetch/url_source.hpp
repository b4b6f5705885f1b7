// UrlSource: hands out fetch's URLs one at a time, the command-line ones
// first, then the lines of the input, read only when asked for. The input
// is a stream, read synchronously (a file never keeps it waiting long), or
// a descriptor: a pipe, socket or terminal, read without blocking, so that
// a slow producer pauses neither the requests in flight nor the deadline.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailcut::cli::fetch {

class UrlSource {
 public:
  // At most one of `input` (null: none) and `descriptor` (-1: none). The
  // descriptor stays open and gets its blocking mode back at the end.
  UrlSource(const boost::asio::any_io_executor& executor, std::vector<std::string> arguments,
            std::istream* input, int descriptor);
  ~UrlSource();
  UrlSource(const UrlSource&) = delete;
  UrlSource& operator=(const UrlSource&) = delete;

  // The next URL, surrounding whitespace removed; blank lines and lines
  // starting with '#' are skipped. nullopt at the end of the input, or when
  // reading it failed (read_error() then says why).
  boost::asio::awaitable<std::optional<std::string>> next();

  // The next URL if it is there without waiting (from a stream it always
  // is); nullopt at the end, or when a descriptor has sent nothing more yet
  // (exhausted() tells which).
  std::optional<std::string> next_if_ready();

  [[nodiscard]] bool exhausted() const noexcept { return exhausted_; }
  // URLs handed out so far.
  [[nodiscard]] std::size_t taken() const noexcept { return taken_; }
  // Why reading the input failed (e.g. "Is a directory"), which ended it
  // early; nullopt when it was read to its end (or not yet).
  [[nodiscard]] const std::optional<std::string>& read_error() const noexcept {
    return read_error_;
  }

 private:
  // A whole line of what the descriptor sent (the last one may lack its
  // newline), or nullopt when none is complete yet.
  std::optional<std::string> buffered_line();
  // Reads what the descriptor has now; false when it has nothing yet.
  bool read_available();

  std::vector<std::string> arguments_;
  std::size_t next_argument_ = 0;
  std::istream* input_;
  std::string line_;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
  int descriptor_flags_ = -1;  // its fcntl flags before, restored at the end
  std::string pending_;        // read from the descriptor, not yet a line
  bool descriptor_ended_ = false;
  bool exhausted_ = false;
  std::optional<std::string> read_error_;
  std::size_t taken_ = 0;
};

// The text of a line without surrounding whitespace, or nullopt for a blank
// or comment line.
std::optional<std::string> url_of_line(std::string_view line);

// Whether `descriptor` is a pipe, a socket or a terminal, which UrlSource
// reads without blocking (a regular file, or /dev/null, is read as a stream).
bool is_waitable_input(int descriptor);

}  // namespace tailcut::cli::fetch
