// UrlSource: lazy line reading with blank and comment lines skipped, from a
// stream or, without blocking, from a descriptor.
#include "cli/fetch/url_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <istream>

namespace tailcut::cli::fetch {

namespace asio = boost::asio;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::optional<std::string> url_of_line(std::string_view line) {
  while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  return std::string{line};
}

bool is_waitable_input(int descriptor) {
  struct stat facts {};
  if (::fstat(descriptor, &facts) != 0) return false;
  return S_ISFIFO(facts.st_mode) || S_ISSOCK(facts.st_mode) || ::isatty(descriptor) == 1;
}

UrlSource::UrlSource(const asio::any_io_executor& executor, std::vector<std::string> arguments,
                     std::istream* input, int descriptor)
    : arguments_{std::move(arguments)}, input_{input} {
  if (descriptor < 0) return;
  descriptor_flags_ = ::fcntl(descriptor, F_GETFL);
  descriptor_.emplace(executor, descriptor);
  // Reads that find nothing return at once (read_available).
  descriptor_->non_blocking(true);
}

UrlSource::~UrlSource() {
  if (!descriptor_) return;
  const int descriptor = descriptor_->release();  // not closed: it is the caller's
  if (descriptor_flags_ != -1) ::fcntl(descriptor, F_SETFL, descriptor_flags_);
}

asio::awaitable<std::optional<std::string>> UrlSource::next() {
  for (;;) {
    if (auto url = next_if_ready()) co_return url;
    if (exhausted_) co_return std::nullopt;
    // A descriptor with no whole line yet: wait until it sends more.
    co_await descriptor_->async_wait(asio::posix::descriptor_base::wait_read, asio::use_awaitable);
  }
}

std::optional<std::string> UrlSource::next_if_ready() {
  while (!exhausted_) {
    if (next_argument_ < arguments_.size()) {
      // Arguments are taken as given (a blank one is an invalid URL).
      ++taken_;
      return std::move(arguments_[next_argument_++]);
    }
    std::optional<std::string> line;
    if (descriptor_) {
      line = buffered_line();
      if (!line && !descriptor_ended_) {
        if (!read_available()) return std::nullopt;  // nothing more yet
        continue;
      }
    } else if (input_ != nullptr) {
      errno = 0;
      if (std::getline(*input_, line_)) {
        line = std::move(line_);
      } else if (input_->bad()) {
        // Not the end of the input: say so rather than stop quietly.
        read_error_ = errno != 0 ? std::strerror(errno) : "read error";
      }
    }
    if (!line) {
      exhausted_ = true;
      break;
    }
    if (auto url = url_of_line(*line)) {
      ++taken_;
      return url;
    }
  }
  return std::nullopt;
}

std::optional<std::string> UrlSource::buffered_line() {
  const auto newline = pending_.find('\n');
  if (newline == std::string::npos) {
    if (!descriptor_ended_ || pending_.empty()) return std::nullopt;
    return std::exchange(pending_, {});  // the last line, without its newline
  }
  std::string line = pending_.substr(0, newline);
  pending_.erase(0, newline + 1);
  return line;
}

bool UrlSource::read_available() {
  std::array<char, 4096> chunk;
  boost::system::error_code error;
  const std::size_t bytes = descriptor_->read_some(asio::buffer(chunk), error);
  if (error == asio::error::would_block || error == asio::error::try_again) return false;
  // The end of the input; a read error ends it too (what was read counts,
  // and read_error() tells).
  if (error) {
    if (error != asio::error::eof) read_error_ = error.message();
    descriptor_ended_ = true;
    return true;
  }
  pending_.append(chunk.data(), bytes);
  return true;
}

}  // namespace tailcut::cli::fetch
