// FetchRecord's JSON form and the ordering RecordWriter.
#include "cli/fetch/record.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cassert>

namespace tailcut::cli::fetch {

std::string to_json_line(const FetchRecord& record, bool include_body) {
  boost::json::object line;
  line["url"] = record.url;
  if (record.status) {
    line["status"] = *record.status;
  } else {
    line["status"] = nullptr;
  }
  line["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(record.elapsed).count();
  line["bytes"] = record.bytes;
  line["attempts"] = record.attempts;
  if (record.error) {
    line["error"] = {{"category", record.error->category}, {"message", record.error->message}};
  } else {
    line["error"] = nullptr;
  }
  if (include_body) line["body"] = record.body;
  return boost::json::serialize(line);
}

RecordWriter::RecordWriter(boost::asio::any_io_executor executor, std::ostream& out,
                           OutputOrder order, bool include_body)
    : executor_{std::move(executor)}, out_{&out}, order_{order}, include_body_{include_body} {}

RecordWriter::~RecordWriter() { *flush_pending_ = false; }

void RecordWriter::set_output_hooks(std::function<void()> before_write,
                                    std::function<void()> after_flush) {
  before_write_ = std::move(before_write);
  after_flush_ = std::move(after_flush);
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
  if (before_write_) before_write_();
  *out_ << to_json_line(record, include_body_) << '\n';
  schedule_flush();
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
  out_->flush();
  if (after_flush_) after_flush_();
}

void RecordWriter::finish() {
  assert(waiting_.empty());
  flush();
}

}  // namespace tailcut::cli::fetch
