// tailcut fetch: records for every kind of URL in both orders, concurrency
// and per-host limits, the batch deadline, fail-fast, hedging, streaming
// with bounded read-ahead, a private CA, the progress bar sharing a terminal
// with the records, an input that cannot be read, and exit statuses and
// usage errors of the binary.
#include "cli/fetch/fetch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/client_test_server.hpp"
#include "support/tailcut_binary.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::cli::fetch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::ClientTestServer;
using test::Reply;

// /fast 200, /slow 200 after 300 ms, /fail 500, /hang never answers,
// /late 200 after 40 ms.
Reply scripted(const test::ReceivedRequest& request) {
  if (request.target == "/slow") return Reply::text(200, "slow").delayed(300ms);
  if (request.target == "/fail") return Reply::text(500, "boom");
  if (request.target == "/hang") return Reply::no_answer();
  if (request.target == "/late") return Reply::text(200, "late").delayed(40ms);
  return Reply::text(200, "fast");
}

std::vector<boost::json::object> records_of(const std::string& output) {
  std::vector<boost::json::object> records;
  std::istringstream lines{output};
  for (std::string line; std::getline(lines, line);) {
    records.push_back(boost::json::parse(line).as_object());
  }
  return records;
}

std::string category_of(const boost::json::object& record) {
  if (record.at("error").is_null()) return "";
  return std::string{record.at("error").at("category").as_string()};
}

// Runs fetch_all on `io` (where the test servers run too).
struct FetchRun {
  FetchTotals totals;
  std::vector<boost::json::object> records;
  std::string summary;
  Clock::duration took{};
};

// `streams` says where the URLs come from; the records and the summary are
// collected here.
FetchRun fetch_with(asio::io_context& io, FetchOptions options, FetchStreams streams) {
  std::ostringstream out;
  std::ostringstream summary;
  streams.out = &out;
  streams.summary = &summary;
  const auto started = Clock::now();
  FetchRun run;
  run.totals = test::run_to_completion(io, fetch_all(std::move(options), std::move(streams)));
  run.took = Clock::now() - started;
  run.records = records_of(out.str());
  run.summary = summary.str();
  return run;
}

FetchRun fetch_on(asio::io_context& io, FetchOptions options, std::vector<std::string> urls) {
  return fetch_with(io, std::move(options), FetchStreams{.urls = std::move(urls)});
}

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

class FetchTest : public ::testing::Test {
 protected:
  asio::io_context io_;
  ClientTestServer server_{io_, scripted};
};

std::vector<std::string> mixed_urls(const ClientTestServer& server) {
  return {server.url("/fast"), server.url("/slow"),
          server.url("/fail"), "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/",
          "not a url",         "http://nowhere.invalid/",
          server.url("/fast")};
}

void expect_mixed_records(const std::map<std::string, boost::json::object>& by_url,
                          const std::vector<std::string>& urls) {
  EXPECT_EQ(by_url.at(urls[0]).at("status"), 200);
  EXPECT_EQ(by_url.at(urls[0]).at("bytes"), 4);
  EXPECT_EQ(by_url.at(urls[0]).at("attempts"), 1);
  EXPECT_TRUE(by_url.at(urls[0]).at("error").is_null());
  EXPECT_EQ(by_url.at(urls[1]).at("status"), 200);
  EXPECT_GE(by_url.at(urls[1]).at("ms").as_int64(), 250);
  EXPECT_EQ(by_url.at(urls[2]).at("status"), 500);
  EXPECT_TRUE(by_url.at(urls[2]).at("error").is_null());
  EXPECT_TRUE(by_url.at(urls[3]).at("status").is_null());
  EXPECT_EQ(category_of(by_url.at(urls[3])), "connect_refused");
  EXPECT_EQ(category_of(by_url.at(urls[4])), "invalid_url");
  EXPECT_EQ(by_url.at(urls[4]).at("attempts"), 0);
  EXPECT_EQ(category_of(by_url.at(urls[5])), "dns");
}

TEST_F(FetchTest, AMixedListGetsTheRightRecordForEachUrlInInputOrder) {
  const auto urls = mixed_urls(server_);
  const auto run = fetch_on(io_, FetchOptions{}, urls);
  ASSERT_EQ(run.records.size(), urls.size());
  std::map<std::string, boost::json::object> by_url;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    EXPECT_EQ(run.records[i].at("url").as_string(), urls[i]);  // input order
    by_url[urls[i]] = run.records[i];
  }
  expect_mixed_records(by_url, urls);
  EXPECT_EQ(run.totals.records, 7u);
  EXPECT_EQ(run.totals.succeeded, 3u);
  EXPECT_EQ(run.totals.failed, 4u);
  EXPECT_NE(run.summary.find("7 URLs"), std::string::npos) << run.summary;
  EXPECT_NE(run.summary.find("500 x1"), std::string::npos) << run.summary;
  EXPECT_NE(run.summary.find("p99"), std::string::npos) << run.summary;
}

TEST_F(FetchTest, AMixedListGetsTheRightRecordForEachUrlInCompletionOrder) {
  const auto urls = mixed_urls(server_);
  FetchOptions options;
  options.order = OutputOrder::completion;
  const auto run = fetch_on(io_, options, urls);
  ASSERT_EQ(run.records.size(), urls.size());
  std::map<std::string, boost::json::object> by_url;
  for (const auto& record : run.records) by_url[std::string{record.at("url").as_string()}] = record;
  expect_mixed_records(by_url, urls);
  // The slow one finishes last.
  EXPECT_EQ(run.records.back().at("url").as_string(), urls[1]);
}

TEST_F(FetchTest, TheBodyIsIncludedOnRequestAndTheRequestCarriesMethodHeadersAndJson) {
  FetchOptions options;
  options.include_body = true;
  options.request.method = boost::beast::http::verb::post;
  options.request.headers.push_back({"X-Test", "yes"});
  options.request.json = boost::json::parse(R"({"a":1})");
  const auto run = fetch_on(io_, options, {server_.url("/fast")});
  ASSERT_EQ(run.records.size(), 1u);
  EXPECT_EQ(run.records[0].at("body").as_string(), "fast");
  ASSERT_EQ(server_.requests().size(), 1u);
  const auto& request = server_.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.header("X-Test"), "yes");
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_EQ(request.body, R"({"a":1})");
}

TEST_F(FetchTest, TheConcurrencyLimitIsNeverExceededInEitherOrder) {
  for (const auto order : {OutputOrder::completion, OutputOrder::input}) {
    ClientTestServer server{io_, scripted};
    FetchOptions options;
    options.concurrency = 4;
    options.order = order;
    const auto run = fetch_on(io_, options, std::vector<std::string>(40, server.url("/late")));
    EXPECT_EQ(run.totals.succeeded, 40u);
    EXPECT_LE(server.counters().max_in_flight, 4u);
    EXPECT_GE(server.counters().max_in_flight, 2u);  // it does run them concurrently
  }
}

TEST_F(FetchTest, ThePerHostLimitIsNeverExceeded) {
  ClientTestServer other{io_, scripted};
  std::vector<std::string> urls;
  for (int i = 0; i < 20; ++i) {
    urls.push_back(server_.url("/late"));
    urls.push_back(other.url("/late"));
  }
  FetchOptions options;
  options.concurrency = 10;
  options.per_host = 2;
  options.order = OutputOrder::completion;
  const auto run = fetch_on(io_, options, urls);
  EXPECT_EQ(run.totals.succeeded, 40u);
  EXPECT_LE(server_.counters().max_in_flight, 2u);
  EXPECT_LE(other.counters().max_in_flight, 2u);
  EXPECT_EQ(server_.counters().max_in_flight + other.counters().max_in_flight, 4u);
}

TEST_F(FetchTest, TheBatchDeadlineCancelsWhatRunsAndReportsEveryUrlLeft) {
  FetchOptions options;
  options.concurrency = 3;
  // Long enough for the fast ones to finish first on a loaded machine (and
  // under ThreadSanitizer, which runs this 5-15 times slower, next to the
  // rest of the suite).
  options.deadline = 2000ms;
  const auto run = fetch_on(io_, options,
                            {server_.url("/fast"), server_.url("/hang"), server_.url("/hang"),
                             server_.url("/hang"), server_.url("/fast"), server_.url("/fast")});
  EXPECT_GE(run.took, 1990ms);
  EXPECT_LT(run.took, 6s);
  ASSERT_EQ(run.records.size(), 6u);
  EXPECT_EQ(run.records[0].at("status"), 200);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(category_of(run.records[i]), "deadline");
    EXPECT_EQ(run.records[i].at("attempts"), 1);
  }
  for (std::size_t i = 4; i < 6; ++i) {
    EXPECT_EQ(category_of(run.records[i]), "deadline");
    EXPECT_EQ(run.records[i].at("attempts"), 0);  // never started
  }
  // The hanging requests were cut off: their connections closed.
  EXPECT_TRUE(test::run_until(
      io_, [&] { return server_.counters().closed_by_client == 3; }, 2000ms));
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

TEST_F(FetchTest, FailFastCancelsEverythingAfterTheFirstFailure) {
  FetchOptions options;
  options.concurrency = 4;
  options.fail_fast = true;
  options.order = OutputOrder::completion;
  std::vector<std::string> urls{server_.url("/hang"), server_.url("/hang"), server_.url("/hang"),
                                server_.url("/fail"), server_.url("/fast"), server_.url("/fast")};
  const auto run = fetch_on(io_, options, urls);
  EXPECT_LT(run.took, 5s);
  ASSERT_EQ(run.records.size(), 6u);
  EXPECT_EQ(run.records[0].at("status"), 500);  // the failure comes first
  std::size_t cancelled = 0;
  for (const auto& record : run.records) cancelled += category_of(record) == "cancelled" ? 1 : 0;
  EXPECT_EQ(cancelled, 5u);
  EXPECT_EQ(server_.counters().requests, 4u);  // the last two never went out
}

TEST_F(FetchTest, HedgingFiresASecondAttemptWhenTheFirstIsSlow) {
  std::size_t seen = 0;
  ClientTestServer hedged{io_, [&seen](const test::ReceivedRequest&) {
                            return ++seen == 1 ? Reply::no_answer() : Reply::text(200, "second");
                          }};
  FetchOptions options;
  options.hedge = HedgeSpec{.delay = 50ms, .extra_attempts = 1};
  const auto run = fetch_on(io_, options, {hedged.url("/"), server_.url("/fail")});
  ASSERT_EQ(run.records.size(), 2u);
  EXPECT_EQ(run.records[0].at("status"), 200);
  EXPECT_EQ(run.records[0].at("attempts"), 2);
  // Every attempt answered 5xx: that is the record's status.
  EXPECT_EQ(run.records[1].at("status"), 500);
  EXPECT_EQ(run.records[1].at("attempts"), 2);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(FetchTls, APrivateCaIsTrustedWithCaFileAndWithoutItTheErrorSaysHow) {
  asio::io_context io;
  const test::TestCertificate certificate;
  ClientTestServer server{io, scripted, &certificate};
  FetchOptions options;
  const auto untrusted = fetch_on(io, options, {server.url("/fast")});
  ASSERT_EQ(untrusted.records.size(), 1u);
  EXPECT_EQ(category_of(untrusted.records[0]), "tls");
  const std::string message{untrusted.records[0].at("error").at("message").as_string()};
  EXPECT_TRUE(contains(message, "self-signed")) << message;
  EXPECT_TRUE(contains(message, "--ca-file")) << message;
  options.ca_file = certificate.ca_file();
  const auto trusted = fetch_on(io, options, {server.url("/fast")});
  ASSERT_EQ(trusted.records.size(), 1u);
  EXPECT_EQ(trusted.records[0].at("status"), 200);
  EXPECT_TRUE(trusted.records[0].at("error").is_null());
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

asio::awaitable<http::Response> answer_at_once(http::Request, http::RequestContext) {
  co_return http::json_response(boost::beast::http::status::ok, "{}");
}

http::Router instant_router() {
  http::Router router;
  router.add(boost::beast::http::verb::get, "/n", answer_at_once);
  return router;
}

std::unique_ptr<http::Server> start_instant_server() {
  http::ServerOptions options;
  options.threads = 1;
  options.shutdown_grace = 100ms;
  auto server = std::make_unique<http::Server>(options, instant_router());
  server->start();
  return server;
}

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

TEST(FetchExitStatus, ZeroWhenEveryUrlGotA2xxOneOtherwise) {
  auto server = start_instant_server();
  const auto base = "http://127.0.0.1:" + std::to_string(server->port());
  std::ostringstream out;
  FetchStreams streams;
  streams.out = &out;
  streams.urls = {base + "/n", base + "/n"};
  EXPECT_EQ(run_fetch(FetchOptions{}, streams), 0);
  streams.urls = {base + "/n", base + "/missing"};  // 404
  EXPECT_EQ(run_fetch(FetchOptions{}, streams), 1);
  server->stop();
}

// The exit status of `tailcut fetch <arguments>` (shell text).
int exit_status_of(const std::string& arguments) {
  return test::run_tailcut_shell("fetch " + arguments).status;
}

TEST(FetchExitStatus, TwoOnAUsageError) {
  EXPECT_EQ(exit_status_of(""), 2);  // no URLs
  EXPECT_EQ(exit_status_of("--timeout abc http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("--order sideways http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("--hedge 10ms http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("--json '{bad' http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("-i /nonexistent/urls.txt"), 2);
  EXPECT_EQ(exit_status_of("http://127.0.0.1:1/"), 1);  // refused: a failure, not a usage error
}

// Exit status 2 and a line saying what is wrong, instead of a record per
// URL that fails the same way (or a silent success).
void expect_usage_error(const std::string& arguments, const std::string& says) {
  SCOPED_TRACE(arguments);
  const auto refused = " http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  const auto run = test::run_tailcut_shell("fetch " + arguments + refused);
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(contains(run.err, says)) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST(FetchUsageErrors, AreFoundAtStartupAndSayWhatIsWrong) {
  const auto directory = std::filesystem::temp_directory_path().string();
  expect_usage_error("-i " + directory, "-i: cannot read '" + directory + "': Is a directory");
  expect_usage_error("-i /nonexistent/urls.txt",
                     "-i: cannot read '/nonexistent/urls.txt': No such file or directory");
  expect_usage_error("-H 'Bad Name: x'", "-H: invalid header name \"Bad Name\"");
  expect_usage_error("-H \"$(printf 'X-Test: a\\rb')\"", "X-Test contains CR, LF or NUL");
  expect_usage_error("-H 'Transfer-Encoding: chunked'", "Transfer-Encoding is set by the client");
  expect_usage_error("--hedge 300ms:1000", "COUNT 1000 is too many extra attempts; use 0 to 16");
  expect_usage_error("--hedge 300ms:99999999999999999999999", "use 0 to 16");
  expect_usage_error("--per-host -1", "--per-host");
  expect_usage_error("--timeout 0", "--timeout: must be more than 0");
  expect_usage_error("--connect-timeout 0s", "--connect-timeout: must be more than 0");
  expect_usage_error("--deadline 0", "--deadline: must be more than 0");
  expect_usage_error("--concurrency 0", "--concurrency: must be at least 1");
  expect_usage_error("--ca-file /nonexistent/ca.pem",
                     "--ca-file: cannot read '/nonexistent/ca.pem': No such file or directory");
  const auto not_a_certificate = std::filesystem::temp_directory_path() /
                                 ("tailcut-fetch-not-ca-" + std::to_string(::getpid()) + ".pem");
  std::ofstream{not_a_certificate} << "not a certificate\n";
  expect_usage_error("--ca-file " + not_a_certificate.string(),
                     "cannot load the CA file " + not_a_certificate.string());
  std::filesystem::remove(not_a_certificate);
}

TEST(FetchBinary, TrustsAPrivateCaGivenWithCaFileOrSslCertFile) {
  asio::io_context io;
  const test::TestCertificate certificate;
  ClientTestServer server{io, scripted, &certificate};
  const auto url = server.url("/fast");
  const auto untrusted = test::run_tailcut_serving(io, "fetch " + url);
  EXPECT_EQ(untrusted.status, 1);
  EXPECT_TRUE(contains(untrusted.out, "--ca-file")) << untrusted.out;
  for (const auto& [arguments, environment] :
       {std::pair{"--ca-file " + certificate.ca_file().string() + " " + url, std::string{}},
        std::pair{url, "SSL_CERT_FILE=" + certificate.ca_file().string()}}) {
    SCOPED_TRACE(environment + " " + arguments);
    const auto trusted = test::run_tailcut_serving(io, "fetch " + arguments, environment);
    EXPECT_EQ(trusted.status, 0) << trusted.err;
    const auto records = records_of(trusted.out);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("status"), 200);
  }
}

}  // namespace
}  // namespace tailcut::cli::fetch
