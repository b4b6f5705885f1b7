// FetchReport: progress bar, histogram and summary text.
#include "cli/fetch/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <utility>

namespace tailcut::cli::fetch {

namespace {

using std::chrono::microseconds;

constexpr double bucket_growth = 1.01;
constexpr std::size_t bucket_count = 2400;  // 1.01^2400 us is far beyond any timeout

std::size_t bucket_of(microseconds latency) {
  const double us = std::max<double>(1.0, static_cast<double>(latency.count()));
  const auto bucket = static_cast<std::size_t>(std::log(us) / std::log(bucket_growth));
  return std::min(bucket, bucket_count - 1);
}

// The upper bound of a bucket.
microseconds bucket_limit(std::size_t bucket) {
  return microseconds{
      static_cast<microseconds::rep>(std::ceil(std::pow(bucket_growth, bucket + 1)))};
}

std::string format_ms(microseconds latency) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(latency.count()) / 1000.0);
  return text;
}

std::string format_duration(double seconds) {
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.0fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%.0fm%02.0fs", std::floor(seconds / 60),
                  std::fmod(seconds, 60));
  } else {
    std::snprintf(text, sizeof text, "%.1fh", seconds / 3600);
  }
  return text;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(bucket_count, 0) {}

void LatencyHistogram::add(microseconds latency) {
  ++buckets_[bucket_of(latency)];
  ++count_;
  max_ = std::max(max_, latency);
}

microseconds LatencyHistogram::quantile(double quantile) const {
  if (count_ == 0) return microseconds{0};
  const auto rank = static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < buckets_.size(); ++bucket) {
    seen += buckets_[bucket];
    if (seen >= rank && seen > 0) return std::min(bucket_limit(bucket), max_);
  }
  return max_;
}

FetchReport::FetchReport(std::ostream* progress, std::ostream* summary,
                         std::optional<std::size_t> expected_total)
    : progress_{progress}, summary_{summary}, total_{expected_total} {}

void FetchReport::on_record(const FetchRecord& record) {
  ++totals_.records;
  if (record.ok()) {
    ++totals_.succeeded;
  } else {
    ++totals_.failed;
  }
  if (record.status) ++by_status_[*record.status];
  if (record.error) ++by_error_[record.error->category];
  // Requests that were never sent do not count as latencies.
  if (record.attempts > 0) latencies_.add(record.elapsed);
  render_progress(Render::if_due);
}

void FetchReport::set_total(std::size_t total) { total_ = total; }

void FetchReport::input_failed(std::string reason) { totals_.input_error = std::move(reason); }

void FetchReport::before_records() {
  records_unflushed_ = true;
  if (progress_ == nullptr || !bar_on_screen_) return;
  *progress_ << "\r\033[K";
  progress_->flush();
  bar_on_screen_ = false;
}

void FetchReport::after_records() {
  records_unflushed_ = false;
  if (!bar_on_screen_) render_progress(Render::now);
}

void FetchReport::render_progress(Render when) {
  if (progress_ == nullptr) return;
  const auto now = Clock::now();
  if (when == Render::if_due &&
      (records_unflushed_ || now - last_render_ < std::chrono::milliseconds{100})) {
    return;
  }
  last_render_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(totals_.records) / seconds : 0.0;

  constexpr int bar_width = 30;
  std::string bar(bar_width, ' ');
  std::string total_text = "?";
  std::string eta = "?";
  if (total_) {
    total_text = std::to_string(*total_);
    const double fraction =
        *total_ == 0 ? 1.0 : static_cast<double>(totals_.records) / static_cast<double>(*total_);
    std::fill_n(bar.begin(), static_cast<int>(fraction * bar_width), '=');
    if (rate > 0) {
      eta =
          format_duration(static_cast<double>(*total_ - std::min(*total_, totals_.records)) / rate);
    }
  } else {
    bar[static_cast<std::size_t>(totals_.records / 64) % bar_width] = '#';
  }
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.1f/s", rate);
  *progress_ << "\r\033[K[" << bar << "] " << totals_.records << "/" << total_text << "  "
             << rate_text << "  errors " << totals_.failed << "  ETA " << eta;
  if (when == Render::last) *progress_ << '\n';
  bar_on_screen_ = when != Render::last;
  progress_->flush();
}

std::string FetchReport::summary_text() const {
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  std::ostringstream text;
  char rate[48];
  std::snprintf(rate, sizeof rate, "%.2f s (%.1f requests/s)", seconds,
                seconds > 0 ? static_cast<double>(totals_.records) / seconds : 0.0);
  text << "tailcut fetch: " << totals_.records << " URLs in " << rate << ": " << totals_.succeeded
       << " succeeded (2xx), " << totals_.failed << " failed\n";
  if (!by_status_.empty()) {
    text << "  status:";
    const char* separator = " ";
    for (const auto& [status, count] : by_status_) {
      text << std::exchange(separator, ", ") << status << " x" << count;
    }
    text << '\n';
  }
  if (!by_error_.empty()) {
    text << "  errors:";
    const char* separator = " ";
    for (const auto& [category, count] : by_error_) {
      text << std::exchange(separator, ", ") << category << " x" << count;
    }
    text << '\n';
  }
  if (latencies_.count() > 0) {
    text << "  latency: p50 " << format_ms(latencies_.quantile(0.50)) << ", p90 "
         << format_ms(latencies_.quantile(0.90)) << ", p99 " << format_ms(latencies_.quantile(0.99))
         << ", max " << format_ms(latencies_.max()) << '\n';
  }
  if (totals_.input_error) {
    text << "  error: reading the input failed after " << totals_.records
         << " URLs: " << *totals_.input_error << "; the rest of it got no record\n";
  }
  for (const auto& note : notes_) text << "  note: " << note << '\n';
  return text.str();
}

void FetchReport::finish() {
  if (progress_ != nullptr) {
    if (!total_) total_ = totals_.records;
    render_progress(Render::last);
  }
  if (summary_ != nullptr) {
    *summary_ << summary_text();
    summary_->flush();
  }
}

}  // namespace tailcut::cli::fetch
