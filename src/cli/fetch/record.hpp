// FetchRecord, the result of one URL, and RecordWriter, which writes the
// records as JSON lines in input or completion order.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "cli/fetch/fetch.hpp"
#include "tailcut/async/limiter.hpp"

namespace tailcut::cli::fetch {

struct RecordError {
  // http::to_string(ErrorKind), or "deadline", "cancelled", "internal".
  std::string category;
  std::string message;
};

struct FetchRecord {
  std::size_t index = 0;  // position in the input, from 0
  std::string url;
  std::optional<int> status{};  // none when no response came
  std::chrono::microseconds elapsed{0};
  std::size_t bytes = 0;
  std::size_t attempts = 0;  // requests sent (hedged attempts included)
  std::optional<RecordError> error{};
  std::string body{};

  // A 2xx response.
  [[nodiscard]] bool ok() const noexcept {
    return !error && status && *status >= 200 && *status < 300;
  }
};

// {"url","status","ms","bytes","attempts","error"[,"body"]} without a newline.
std::string to_json_line(const FetchRecord& record, bool include_body);

// Writes records in the chosen order. In input order a record that is not
// next waits in a buffer, together with the permit that reserved its place
// in the reading window, so the buffer is bounded by that window. Output is
// flushed once the burst of records ready at the same moment is written (a
// posted flush), so a pipe sees each record promptly without a flush per
// line.
class RecordWriter {
 public:
  RecordWriter(boost::asio::any_io_executor executor, std::ostream& out, OutputOrder order,
               bool include_body);

  // Takes one record; `slot` is released when it has been written.
  void add(FetchRecord record, std::optional<async::Limiter::Permit> slot);
  // Records waiting for an earlier one.
  [[nodiscard]] std::size_t buffered() const noexcept { return waiting_.size(); }
  // Flushes the output. Precondition: nothing is waiting.
  void finish();

 private:
  struct Waiting {
    FetchRecord record;
    std::optional<async::Limiter::Permit> slot;
  };
  void write(const FetchRecord& record);
  void schedule_flush();

  boost::asio::any_io_executor executor_;
  std::ostream* out_;
  OutputOrder order_;
  bool include_body_;
  std::size_t next_index_ = 0;
  std::map<std::size_t, Waiting> waiting_;
  std::shared_ptr<bool> flush_pending_ = std::make_shared<bool>(false);
};

}  // namespace tailcut::cli::fetch
