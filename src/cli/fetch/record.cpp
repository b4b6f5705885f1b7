// FetchRecord's JSON form and the ordering RecordWriter.
#include "cli/fetch/record.hpp"

#include <boost/asio/post.hpp>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "http/common/text_escape.hpp"

namespace tailcut::cli::fetch {

// Written by hand with json_string: the URL, an error message or a body
// may hold bytes that are not valid UTF-8, which Boost.JSON copies as
// they are.
std::string to_json_line(const FetchRecord& record, bool include_body) {
  using http::detail::append_json_string;
  std::string line = R"({"url":)";
  append_json_string(line, record.url);
  line += R"(,"status":)";
  line += record.status ? std::to_string(*record.status) : "null";
  line += R"(,"ms":)";
  line +=
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(record.elapsed).count());
  line += R"(,"bytes":)" + std::to_string(record.bytes);
  line += R"(,"attempts":)" + std::to_string(record.attempts);
  line += R"(,"error":)";
  if (record.error) {
    line += R"({"category":)";
    append_json_string(line, record.error->category);
    line += R"(,"message":)";
    append_json_string(line, record.error->message);
    line += '}';
  } else {
    line += "null";
  }
  if (include_body) {
    line += R"(,"body":)";
    append_json_string(line, record.body);
  }
  line += '}';
  return line;
}

RecordWriter::RecordWriter(boost::asio::any_io_executor executor, std::ostream& out,
                           std::string out_name, OutputOrder order, bool include_body)
    : executor_{std::move(executor)},
      out_{&out},
      out_name_{std::move(out_name)},
      order_{order},
      include_body_{include_body} {}

RecordWriter::~RecordWriter() { *flush_pending_ = false; }

void RecordWriter::set_output_hooks(std::function<void()> before_write,
                                    std::function<void()> after_flush) {
  before_write_ = std::move(before_write);
  after_flush_ = std::move(after_flush);
}

void RecordWriter::set_failure_hook(std::function<void()> on_failure) {
  on_failure_ = std::move(on_failure);
}

void RecordWriter::add(FetchRecord record, std::optional<async::Limiter::Permit> slot) {
  if (order_ == OutputOrder::completion) {
    write(record);
    return;
  }
  if (record.index != next_index_) {
    const auto index = record.index;
    waiting_.emplace(index, Waiting{std::move(record), std::move(slot)});
    return;
  }
  write(record);
  slot.reset();
  ++next_index_;
  // Whatever was waiting for this one.
  while (!waiting_.empty() && waiting_.begin()->first == next_index_) {
    write(waiting_.begin()->second.record);
    waiting_.erase(waiting_.begin());
    ++next_index_;
  }
}

void RecordWriter::write(const FetchRecord& record) {
  if (failure_) return;
  if (before_write_) before_write_();
  errno = 0;
  *out_ << to_json_line(record, include_body_) << '\n';
  check_output(errno);
  schedule_flush();
}

void RecordWriter::check_output(int error) {
  if (*out_ || failure_) return;
  failure_ = "cannot write the records to " + out_name_ +
             (error != 0 ? std::string{": "} + std::strerror(error) : std::string{}) +
             "; the records from there on are lost";
  if (on_failure_) on_failure_();
}

void RecordWriter::schedule_flush() {
  if (*flush_pending_) return;
  *flush_pending_ = true;
  // Once finish() ran or the writer is gone, `pending` is false and `this`
  // is not used.
  boost::asio::post(executor_, [pending = flush_pending_, this] {
    if (*pending) flush();
  });
}

void RecordWriter::flush() {
  *flush_pending_ = false;
  if (failure_) return;
  errno = 0;
  out_->flush();
  check_output(errno);
  if (after_flush_) after_flush_();
}

void RecordWriter::finish() {
  assert(waiting_.empty());
  flush();
}

}  // namespace tailcut::cli::fetch
