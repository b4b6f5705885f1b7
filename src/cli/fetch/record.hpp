// FetchRecord, the result of one URL, and RecordWriter, which writes the
// records as JSON lines in input or completion order.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
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
  // `out_name` names `out` in the error when it cannot be written
  // ("standard output", "'records.jsonl'").
  RecordWriter(boost::asio::any_io_executor executor, std::ostream& out, std::string out_name,
               OutputOrder order, bool include_body);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // `before_write` runs before each record is written, `after_flush` after
  // the output is flushed: how fetch keeps its progress bar off the lines
  // of records written to the same terminal.
  void set_output_hooks(std::function<void()> before_write, std::function<void()> after_flush);

  // `on_failure` runs once, when a write or flush of the output fails; the
  // records after that are dropped (they could not be written either).
  void set_failure_hook(std::function<void()> on_failure);
  // Why the output could not be written, once it could not.
  [[nodiscard]] const std::optional<std::string>& failure() const noexcept { return failure_; }

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
  void flush();
  // Notes a failed write or flush; `error` is errno after it.
  void check_output(int error);

  boost::asio::any_io_executor executor_;
  std::ostream* out_;
  std::string out_name_;
  OutputOrder order_;
  bool include_body_;
  std::size_t next_index_ = 0;
  std::map<std::size_t, Waiting> waiting_;
  // Shared with the posted flush, which does nothing once it is false.
  std::shared_ptr<bool> flush_pending_ = std::make_shared<bool>(false);
  std::function<void()> before_write_;
  std::function<void()> after_flush_;
  std::function<void()> on_failure_;
  std::optional<std::string> failure_;
};

}  // namespace tailcut::cli::fetch
