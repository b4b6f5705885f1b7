// tailcut fetch's input and output: URLs from a pipe, a producer that
// waits, an input that cannot be read, many URLs from a stream read only as
// capacity frees up, and the progress bar sharing a terminal with the records.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/fetch/fetch.hpp"
#include "support/fetch_test_run.hpp"

namespace tailcut::cli::fetch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::contains;
using test::fetch_with;
using test::FetchRun;
using test::FetchTest;
using test::start_instant_server;

// A pipe whose write end the test holds: the URLs' producer.
class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe(ends_), 0); }
  ~Pipe() {
    close_write_end();
    ::close(ends_[0]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  [[nodiscard]] int read_end() const noexcept { return ends_[0]; }
  void write(std::string_view text) {
    EXPECT_EQ(::write(ends_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_write_end() {
    if (ends_[1] != -1) ::close(std::exchange(ends_[1], -1));
  }

 private:
  int ends_[2] = {-1, -1};
};

FetchRun fetch_from(asio::io_context& io, FetchOptions options, int descriptor) {
  return fetch_with(io, std::move(options), FetchStreams{.input_descriptor = descriptor});
}

TEST_F(FetchTest, APipeIsReadToItsEndSkippingBlankAndCommentLines) {
  Pipe pipe;
  pipe.write(server_.url("/fast") + "\n\n# a comment\n  " + server_.url("/fail") + "  \r\n" +
             server_.url("/late"));  // the last line without its newline
  pipe.close_write_end();
  const auto run = fetch_from(io_, FetchOptions{}, pipe.read_end());
  ASSERT_EQ(run.records.size(), 3u) << run.summary;
  EXPECT_EQ(run.records[0].at("status"), 200);
  EXPECT_EQ(run.records[1].at("status"), 500);
  EXPECT_EQ(std::string{run.records[2].at("url").as_string()}, server_.url("/late"));
  EXPECT_EQ(run.records[2].at("status"), 200);
  EXPECT_EQ(run.summary.find("note:"), std::string::npos) << run.summary;
  // The descriptor is left open, in the blocking mode it had.
  const int flags = ::fcntl(pipe.read_end(), F_GETFL);
  ASSERT_NE(flags, -1);
  EXPECT_EQ(flags & O_NONBLOCK, 0);
}

TEST_F(FetchTest, AProducerThatWaitsPausesNeitherTheRequestsNorTheDeadline) {
  Pipe pipe;
  pipe.write(server_.url("/fast") + "\n" + server_.url("/fast") + "\n");
  // The producer then sends nothing and keeps the pipe open. Should fetch
  // wait for it, this thread ends the wait after 10 s (and the test fails
  // on the time taken).
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread producer{[&] {
    std::unique_lock lock{mutex};
    finished.wait_for(lock, 10s, [&] { return done; });
    pipe.close_write_end();
  }};
  FetchOptions options;
  options.deadline = 2s;  // room for both requests on a slow machine, under ThreadSanitizer
  const auto run = fetch_from(io_, options, pipe.read_end());
  {
    std::lock_guard lock{mutex};
    done = true;
  }
  finished.notify_one();
  producer.join();
  EXPECT_LT(run.took, 5s);
  ASSERT_EQ(run.records.size(), 2u) << run.summary;
  EXPECT_EQ(run.records[0].at("status"), 200);
  EXPECT_EQ(run.records[1].at("status"), 200);  // answered while the producer waited
  EXPECT_NE(run.summary.find("note: the input was read up to the stop only"), std::string::npos)
      << run.summary;
}

// One terminal that stdout and stderr share: the bytes in the order they
// reach it. Records arrive when their stream is flushed (stdout is
// buffered), the progress bar as it is written (stderr is not).
class SharedTerminal {
 public:
  std::ostream& records() { return records_; }
  std::ostream& progress() { return progress_; }
  [[nodiscard]] const std::string& screen() const { return screen_; }

 private:
  class Buffered : public std::stringbuf {
   public:
    explicit Buffered(std::string* screen) : screen_{screen} {}

   protected:
    int sync() override {
      *screen_ += str();
      str({});
      return 0;
    }

   private:
    std::string* screen_;
  };
  class Unbuffered : public std::streambuf {
   public:
    explicit Unbuffered(std::string* screen) : screen_{screen} {}

   protected:
    int_type overflow(int_type c) override {
      if (c != traits_type::eof()) *screen_ += traits_type::to_char_type(c);
      return c;
    }
    std::streamsize xsputn(const char* text, std::streamsize size) override {
      screen_->append(text, static_cast<std::size_t>(size));
      return size;
    }

   private:
    std::string* screen_;
  };

  std::string screen_;
  Buffered records_buffer_{&screen_};
  Unbuffered progress_buffer_{&screen_};
  std::ostream records_{&records_buffer_};
  std::ostream progress_{&progress_buffer_};
};

// The lines a terminal shows for `screen`, where "\r\033[K" (return to
// the line's start, erase it) leaves only what follows. Any other use of
// "\r" is kept as written, which the checks then see.
std::vector<std::string> visible_lines(const std::string& screen) {
  std::vector<std::string> lines;
  std::istringstream text{screen};
  for (std::string line; std::getline(text, line);) {
    const auto last_clear = line.rfind("\r\033[K");
    if (last_clear != std::string::npos) line = line.substr(last_clear + 4);
    lines.push_back(std::move(line));
  }
  return lines;
}

TEST_F(FetchTest, TheProgressBarNeverSharesALineWithARecordOnOneTerminal) {
  for (const auto order : {OutputOrder::completion, OutputOrder::input}) {
    SCOPED_TRACE(order == OutputOrder::input ? "input order" : "completion order");
    SharedTerminal terminal;
    FetchOptions options;
    options.concurrency = 2;
    options.order = order;
    const std::vector<std::string> urls{server_.url("/late"), server_.url("/fast"),
                                        server_.url("/late"), server_.url("/fail"),
                                        server_.url("/fast")};
    FetchStreams streams{.urls = urls,
                         .out = &terminal.records(),
                         .progress = &terminal.progress(),
                         .out_shares_progress_terminal = true,
                         .expected_total = urls.size()};
    (void)test::run_to_completion(io_, fetch_all(options, std::move(streams)));

    std::size_t records = 0;
    const auto lines = visible_lines(terminal.screen());
    for (const auto& line : lines) {
      if (!contains(line, "{\"url\"")) continue;
      ++records;
      // The record alone on its line, no bar before or after it.
      EXPECT_TRUE(line.starts_with("{\"url\"")) << "line: " << line;
      EXPECT_NO_THROW((void)boost::json::parse(line)) << "line: " << line;
    }
    EXPECT_EQ(records, urls.size()) << terminal.screen();
    // The bar's final state is on the last line.
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(contains(lines.back(), "5/5")) << lines.back();
    EXPECT_TRUE(contains(lines.back(), "ETA")) << lines.back();
  }
}

TEST_F(FetchTest, AnInputThatFailsToBeReadIsAnErrorNotAnEmptyList) {
  // A directory opens as a stream, but every read of it fails.
  std::ifstream directory{std::filesystem::temp_directory_path()};
  ASSERT_TRUE(directory.is_open());
  const auto run = fetch_with(io_, FetchOptions{},
                              FetchStreams{.urls = {server_.url("/fast")}, .input = &directory});
  ASSERT_EQ(run.records.size(), 1u);  // the argument still got its record
  ASSERT_TRUE(run.totals.input_error.has_value());
  EXPECT_EQ(*run.totals.input_error, "Is a directory");
  EXPECT_TRUE(contains(run.summary, "reading the input failed after 1 URLs: Is a directory"))
      << run.summary;

  std::ifstream again{std::filesystem::temp_directory_path()};
  std::ostringstream out;
  EXPECT_EQ(run_fetch(FetchOptions{}, FetchStreams{.input = &again, .out = &out}), 1);
}

// Makes "URL\n" lines on demand and records how far the reader ever got
// ahead of the records written.
class UrlGenerator : public std::streambuf {
 public:
  UrlGenerator(std::string url, std::size_t count, const std::size_t* written)
      : url_{std::move(url)}, count_{count}, written_{written} {}
  std::size_t max_read_ahead = 0;

 protected:
  int_type underflow() override {
    if (produced_ == count_) return traits_type::eof();
    ++produced_;
    max_read_ahead = std::max(max_read_ahead, produced_ - *written_);
    line_ = url_ + "\n";
    setg(line_.data(), line_.data(), line_.data() + line_.size());
    return traits_type::to_int_type(line_.front());
  }

 private:
  std::string url_;
  std::size_t count_;
  const std::size_t* written_;
  std::size_t produced_ = 0;
  std::string line_;
};

// Counts the lines written to it, unbuffered.
class LineCounter : public std::streambuf {
 public:
  std::size_t lines = 0;

 protected:
  int_type overflow(int_type c) override {
    if (c == '\n') ++lines;
    return c;
  }
  std::streamsize xsputn(const char* text, std::streamsize size) override {
    lines += static_cast<std::size_t>(std::count(text, text + size, '\n'));
    return size;
  }
};

TEST(FetchStreaming, ManyUrlsFromAStreamAreReadOnlyAsCapacityFreesUp) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr std::size_t count = 10'000;  // the sanitizers are ~10x slower
#else
  constexpr std::size_t count = 100'000;
#endif
  auto server = start_instant_server();
  const auto url = "http://127.0.0.1:" + std::to_string(server->port()) + "/n";
  for (const auto order : {OutputOrder::completion, OutputOrder::input}) {
    LineCounter counter;
    std::ostream out{&counter};
    UrlGenerator generator{url, count, &counter.lines};
    std::istream input{&generator};
    FetchOptions options;
    options.concurrency = 50;
    options.order = order;
    FetchStreams streams;
    streams.input = &input;
    streams.out = &out;
    const auto started = Clock::now();
    EXPECT_EQ(run_fetch(options, streams), 0);
    EXPECT_LT(Clock::now() - started, 60s);
    EXPECT_EQ(counter.lines, count);
    const std::size_t window = order == OutputOrder::input ? 2 * options.concurrency : 50;
    EXPECT_LE(generator.max_read_ahead, window + 2);
  }
  server->stop();
}

}  // namespace
}  // namespace tailcut::cli::fetch
