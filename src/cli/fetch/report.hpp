// FetchReport: what fetch tells the user on stderr. A live progress bar
// (done/total, rate, errors, ETA) when stderr is a terminal, and a summary
// at the end: counts by status and by error, latency percentiles and
// throughput. Memory stays constant: latencies go into a log histogram.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/fetch/fetch.hpp"
#include "cli/fetch/record.hpp"

namespace tailcut::cli::fetch {

// Latencies in buckets about 1 % wide, from 1 microsecond to hours.
class LatencyHistogram {
 public:
  LatencyHistogram();
  void add(std::chrono::microseconds latency);
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  // The latency below which `quantile` (0..1] of the samples fall, to
  // about 1 %; the exact maximum for 1.
  [[nodiscard]] std::chrono::microseconds quantile(double quantile) const;
  [[nodiscard]] std::chrono::microseconds max() const noexcept { return max_; }

 private:
  std::vector<std::uint64_t> buckets_;
  std::size_t count_ = 0;
  std::chrono::microseconds max_{0};
};

class FetchReport {
 public:
  using Clock = std::chrono::steady_clock;

  // `progress` and `summary` may be null (silent).
  FetchReport(std::ostream* progress, std::ostream* summary,
              std::optional<std::size_t> expected_total);

  void on_record(const FetchRecord& record);
  // The input is exhausted: the total is now known.
  void set_total(std::size_t total);
  // A line for the end of the summary.
  void note(std::string line) { notes_.push_back(std::move(line)); }
  // Reading the input failed (`reason`, e.g. "Is a directory"): said in
  // the summary, and the batch does not count as a success.
  void input_failed(std::string reason);
  // When the records go to the terminal the bar is drawn on: before a
  // record is written, before_records() takes the bar off its line (and
  // keeps it off); once the records are flushed, after_records() draws it
  // again.
  void before_records();
  void after_records();
  // Ends the progress bar and writes the summary.
  void finish();

  [[nodiscard]] FetchTotals totals() const noexcept { return totals_; }

 private:
  enum class Render {
    if_due,  // at most every 100 ms, and not while records wait to be flushed
    now,
    last,  // the final state, ending its line
  };
  void render_progress(Render when);
  [[nodiscard]] std::string summary_text() const;

  std::ostream* progress_;
  std::ostream* summary_;
  std::optional<std::size_t> total_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_render_{};
  bool bar_on_screen_ = false;      // drawn, and the cursor is at its end
  bool records_unflushed_ = false;  // between before_records() and after_records()
  FetchTotals totals_{};
  std::map<int, std::size_t> by_status_;
  std::map<std::string, std::size_t> by_error_;
  LatencyHistogram latencies_;
  std::vector<std::string> notes_;
};

}  // namespace tailcut::cli::fetch
