// tailcut fetch --hedge auto[:COUNT] and --hedge-budget: the flags' forms
// and usage errors, the per-origin state kept in bounded memory, and a
// batch where one host leaves a few percent of its requests unanswered:
// the adaptive delay rescues them with extra attempts that stay within each
// host's budget, and every URL gets its record.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cli/fetch/fetch.hpp"
#include "cli/fetch/host_hedging.hpp"
#include "support/client_test_server.hpp"
#include "support/fetch_test_run.hpp"
#include "support/tailcut_binary.hpp"

namespace tailcut::cli::fetch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::ClientTestServer;
using test::contains;
using test::expect_fetch_usage_error;
using test::records_of;
using test::Reply;

TEST(FetchHedgeAuto, BadFormsAndValuesAreUsageErrorsNamingTheFlag) {
  expect_fetch_usage_error("--hedge auto:0", "--hedge auto: COUNT must be at least 1");
  expect_fetch_usage_error("--hedge auto:x",
                           "--hedge: 'auto:x' is not DELAY:COUNT nor auto[:COUNT]");
  expect_fetch_usage_error("--hedge auto:", "--hedge: 'auto:' is not DELAY:COUNT nor auto[:COUNT]");
  expect_fetch_usage_error("--hedge automatic", "is not DELAY:COUNT nor auto[:COUNT]");
  expect_fetch_usage_error("--hedge auto:17", "COUNT 17 is too many extra attempts; use 0 to 16");
  expect_fetch_usage_error("--hedge auto --hedge-budget -1",
                           "--hedge-budget: must not be negative");
  expect_fetch_usage_error("--hedge auto --hedge-budget 0",
                           "--hedge auto: needs a hedge budget above 0");
  expect_fetch_usage_error("--hedge auto --hedge-budget 101",
                           "--hedge-budget: must be at most 100");
  expect_fetch_usage_error("--hedge-budget 5",
                           "--hedge-budget: caps the extra attempts of --hedge");
  expect_fetch_usage_error("--hedge 10ms:1 --hedge-budget x", "--hedge-budget");
}

TEST(FetchHedgeAuto, ValidateChecksTheCountAndTheBudget) {
  FetchOptions options;
  options.hedge = HedgeSpec{.extra_attempts = 2, .adaptive_delay = true};
  EXPECT_NO_THROW(validate(options));
  EXPECT_EQ(options.effective_hedge_budget_percent(), FetchOptions::adaptive_hedge_budget_percent);
  options.hedge->extra_attempts = 0;
  EXPECT_THROW(validate(options), std::invalid_argument);
  options.hedge->extra_attempts = 2;
  options.hedge_budget_percent = 0;
  EXPECT_THROW(validate(options), std::invalid_argument);
  // A fixed delay takes a budget of 0 (no cap), and no cap by default.
  options.hedge->adaptive_delay = false;
  EXPECT_NO_THROW(validate(options));
  options.hedge_budget_percent.reset();
  EXPECT_EQ(options.effective_hedge_budget_percent(), 0);
}

// Runs `io` on a thread of its own (for test servers that the `tailcut`
// binary talks to) until destroyed.
class IoThread {
 public:
  explicit IoThread(asio::io_context& io) : io_{io}, thread_{[&io] { io.run(); }} {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

 private:
  asio::io_context& io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;
};

// The first request for a target is never answered; the others are.
Reply first_sight_hangs(std::set<std::string>* seen, const test::ReceivedRequest& request) {
  return seen->insert(request.target).second ? Reply::no_answer() : Reply::text(200, "ok");
}

TEST(FetchHedgeAuto, AutoFiresTwoExtraAttemptsByDefaultAndAutoCountFiresCount) {
  asio::io_context io;
  std::set<std::string> seen;  // used on the io thread only
  ClientTestServer server{io, [&seen](const test::ReceivedRequest& request) {
                            return first_sight_hangs(&seen, request);
                          }};
  const auto base = server.url("");
  const IoThread running{io};  // stopped before the server goes
  // Until 100 answers, auto waits the fallback delay (300 ms), then hedges.
  const auto by_default = test::run_tailcut_shell("fetch --hedge auto " + base + "/one");
  EXPECT_EQ(by_default.status, 0) << by_default.err;
  EXPECT_TRUE(contains(by_default.out, "\"attempts\":3")) << by_default.out;
  const auto with_count = test::run_tailcut_shell("fetch --hedge auto:1 " + base + "/two");
  EXPECT_EQ(with_count.status, 0) << with_count.err;
  EXPECT_TRUE(contains(with_count.out, "\"attempts\":2")) << with_count.out;
}

TEST(HostHedging, KeepsAtMostItsCapacityOfOriginsDroppingTheLeastRecentlyUsed) {
  HostHedging hedging{policy::AdaptiveDelayOptions{}, 5, 2};
  ASSERT_TRUE(hedging.enabled());
  const auto a = hedging.of("http://a:80");
  const auto b = hedging.of("http://b:80");
  EXPECT_TRUE(a->delay.has_value());
  EXPECT_TRUE(a->budget.has_value());
  EXPECT_EQ(hedging.of("http://a:80"), a);   // a is now the most recent
  const auto c = hedging.of("http://c:80");  // drops b
  EXPECT_EQ(hedging.hosts(), 2u);
  EXPECT_EQ(hedging.of("http://a:80"), a);
  EXPECT_EQ(hedging.of("http://c:80"), c);
  EXPECT_NE(hedging.of("http://b:80"), b);  // starts afresh; the old one is still usable
  EXPECT_EQ(hedging.hosts(), 2u);
  EXPECT_TRUE(b->budget->try_spend());
  for (int host = 0; host < 10'000; ++host) (void)hedging.of("http://h" + std::to_string(host));
  EXPECT_EQ(hedging.hosts(), 2u);
}

TEST(HostHedging, GivesOnlyWhatTheOptionsAskFor) {
  HostHedging fixed_with_budget{std::nullopt, 10, 4};
  EXPECT_TRUE(fixed_with_budget.enabled());
  EXPECT_FALSE(fixed_with_budget.of("http://a:80")->delay.has_value());
  EXPECT_TRUE(fixed_with_budget.of("http://a:80")->budget.has_value());
  HostHedging nothing{std::nullopt, 0, 4};
  EXPECT_FALSE(nothing.enabled());
}

// URLs /a/<i> on `slow` and /b/<i> on `fast`, interleaved.
std::vector<std::string> urls_of(const ClientTestServer& slow, const ClientTestServer& fast,
                                 std::size_t per_host) {
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < per_host; ++i) {
    urls.push_back(slow.url("/a/" + std::to_string(i)));
    urls.push_back(fast.url("/b/" + std::to_string(i)));
  }
  return urls;
}

constexpr std::size_t urls_per_host = 600;
constexpr std::size_t hang_every = 50;  // 2 % of the slow host's URLs hang

bool hangs(const std::string& target) {
  return target.starts_with("/a/") && std::stoul(target.substr(3)) % hang_every == 7;
}

// What a batch of urls_per_host URLs to a slow host and as many to a fast
// one came to, with --hedge auto (and `budget_percent`, if given).
struct SlowHostBatch {
  std::size_t rescued = 0;       // URLs that hung, answered by an extra attempt
  std::size_t rescued_fast = 0;  // of those, late in the batch and under the fallback delay
  std::size_t timed_out = 0;     // URLs that hung, with no extra attempt to answer
  std::size_t slow_extras = 0;   // extra attempts each server saw
  std::size_t fast_extras = 0;
  std::size_t fast_not_ok = 0;  // the fast host's URLs without a 200
};

SlowHostBatch fetch_from_a_slow_host(std::optional<double> budget_percent,
                                     std::chrono::milliseconds timeout) {
  asio::io_context io;
  std::set<std::string> seen;
  ClientTestServer slow{io, [&seen](const test::ReceivedRequest& request) {
                          if (!hangs(request.target)) return Reply::text(200, "ok");
                          return first_sight_hangs(&seen, request);
                        }};
  ClientTestServer fast{io, [](const test::ReceivedRequest&) { return Reply::text(200, "ok"); }};
  FetchOptions options;
  options.concurrency = 20;
  options.order = OutputOrder::completion;
  options.timeout = timeout;  // a hung URL that the budget cannot hedge ends here
  options.hedge = HedgeSpec{.extra_attempts = 2, .adaptive_delay = true};
  options.hedge_budget_percent = budget_percent;
  std::ostringstream out;
  std::ostringstream summary;
  FetchStreams streams{
      .urls = urls_of(slow, fast, urls_per_host), .out = &out, .summary = &summary};
  test::run_to_completion(io, fetch_all(options, streams), 60s);

  const auto records = records_of(out.str());
  EXPECT_EQ(records.size(), 2 * urls_per_host);
  std::map<std::string, boost::json::object> by_url;
  for (const auto& record : records) by_url[std::string{record.at("url").as_string()}] = record;
  EXPECT_EQ(by_url.size(), 2 * urls_per_host);  // one record each
  SlowHostBatch batch;
  for (std::size_t i = 0; i < urls_per_host; ++i) {
    const auto found = by_url.find(fast.url("/b/" + std::to_string(i)));
    if (found == by_url.end() || found->second.at("status") != 200) ++batch.fast_not_ok;
  }
  for (std::size_t i = 7; i < urls_per_host; i += hang_every) {
    const auto found = by_url.find(slow.url("/a/" + std::to_string(i)));
    if (found == by_url.end()) continue;
    if (found->second.at("status") != 200) {
      ++batch.timed_out;
      continue;
    }
    ++batch.rescued;
    if (i > urls_per_host / 2 && found->second.at("ms").to_number<double>() < 250) {
      ++batch.rescued_fast;
    }
  }
  batch.slow_extras = slow.counters().requests - urls_per_host;
  batch.fast_extras = fast.counters().requests - urls_per_host;
  return batch;
}

std::string describe(const SlowHostBatch& batch) {
  return "rescued " + std::to_string(batch.rescued) + " (late and fast " +
         std::to_string(batch.rescued_fast) + "), timed out " + std::to_string(batch.timed_out) +
         ", extra attempts " + std::to_string(batch.slow_extras) + " (slow host), " +
         std::to_string(batch.fast_extras) + " (fast host)";
}

// At most a host's budget (of its first attempts) plus the burst saved up
// at the start (10).
std::size_t most_extras(double budget_percent) {
  return static_cast<std::size_t>(urls_per_host * budget_percent / 100) + 10;
}

TEST(FetchHedgeAuto, TheHungRequestsOfASlowHostAreHedgedWithinItsBudget) {
  const auto batch = fetch_from_a_slow_host(std::nullopt, 3s);
  SCOPED_TRACE(describe(batch));
  // The default budget (5 %) covers the 2 % that hang, 2 extra attempts
  // each, but not always when other attempts were slow just before.
  EXPECT_GE(batch.rescued, urls_per_host / hang_every / 2);
  EXPECT_EQ(batch.rescued + batch.timed_out, urls_per_host / hang_every);
  // The delay learnt the host: the fallback (300 ms) was no longer waited.
  EXPECT_GE(batch.rescued_fast, 1u);
  EXPECT_GE(batch.slow_extras, batch.rescued);
  EXPECT_LE(batch.slow_extras, most_extras(FetchOptions::adaptive_hedge_budget_percent));
  EXPECT_LE(batch.fast_extras, most_extras(FetchOptions::adaptive_hedge_budget_percent));
  EXPECT_EQ(batch.fast_not_ok, 0u);
}

TEST(FetchHedgeAuto, ABudgetTooSmallForTheSlowHostCapsItsExtraAttempts) {
  // 1 %: the delay still hedges the 2 % that hang (above the quantile
  // 0.995), which would take 24 extra attempts; the budget allows 16.
  constexpr double budget_percent = 1;
  const auto batch = fetch_from_a_slow_host(budget_percent, 1s);
  SCOPED_TRACE(describe(batch));
  EXPECT_LE(batch.slow_extras, most_extras(budget_percent));
  EXPECT_GE(batch.rescued, 1u);
  EXPECT_GE(batch.timed_out, 1u);
  EXPECT_EQ(batch.rescued + batch.timed_out, urls_per_host / hang_every);
  EXPECT_LE(batch.fast_extras, most_extras(budget_percent));
  EXPECT_EQ(batch.fast_not_ok, 0u);  // the slow host's budget is its own
}

}  // namespace
}  // namespace tailcut::cli::fetch
