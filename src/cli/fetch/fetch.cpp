// fetch_all: a reader that starts one task per URL when the window has
// room, the tasks (each one request, or a hedge of them), and a supervisor
// that waits for the end, the batch deadline or a --fail-fast stop.
#include "cli/fetch/fetch.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "cli/fetch/fetch_request.hpp"
#include "cli/fetch/host_hedging.hpp"
#include "cli/fetch/host_limiter.hpp"
#include "cli/fetch/record.hpp"
#include "cli/fetch/report.hpp"
#include "cli/fetch/url_source.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/http/url.hpp"

namespace tailcut::cli::fetch {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Permit = async::Limiter::Permit;

enum class StopReason {
  none,
  deadline,     // --deadline passed
  fail_fast,    // a failure with --fail-fast
  interrupted,  // fetch_all's caller was cancelled (SIGINT in the CLI)
  no_output,    // a record could not be written
};

http::SessionOptions session_options(const FetchOptions& options) {
  http::SessionOptions session;
  session.connection_limit = options.concurrency;
  session.per_host_connection_limit = options.per_host;
  session.timeouts =
      http::Timeouts{.total = options.timeout, .connect = options.connect_timeout, .sock_read = {}};
  session.ca_file = options.ca_file;
  return session;
}

// What the adaptive delay of each origin is made with (--hedge auto).
std::optional<policy::AdaptiveDelayOptions> adaptive_delay_options(const FetchOptions& options) {
  if (!options.hedge || !options.hedge->adaptive_delay) return std::nullopt;
  policy::AdaptiveDelayOptions adaptive;
  adaptive.budget = options.effective_hedge_budget_percent() / 100.0;
  adaptive.extras_per_hedge = options.hedge->extra_attempts;
  adaptive.fallback = options.hedge->delay;
  return adaptive;
}

// Origins get hedge state only when they hedge.
double hedge_budget_percent(const FetchOptions& options) {
  return options.hedge && options.hedge->extra_attempts > 0
             ? options.effective_hedge_budget_percent()
             : 0;
}

// Everything one batch shares; lives in fetch_all's frame, which joins
// every task before it ends.
struct FetchRun {
  FetchRun(asio::any_io_executor executor_in, FetchOptions options_in, FetchStreams streams)
      : options{std::move(options_in)},
        executor{std::move(executor_in)},
        session{executor, session_options(options)},
        source{executor, std::move(streams.urls), streams.input, streams.input_descriptor},
        // Input order reads up to N URLs more than are in flight, to keep
        // the requests going while an early one is slow (see fetch.hpp).
        window{executor,
               options.order == OutputOrder::input ? 2 * options.concurrency : options.concurrency},
        hosts{executor, options.per_host},
        hedging{adaptive_delay_options(options), hedge_budget_percent(options),
                FetchOptions::max_hedge_hosts},
        writer{executor, *streams.out, std::move(streams.out_name), options.order,
               options.include_body},
        report{streams.progress, streams.summary, streams.expected_total},
        wakeup{executor} {
    if (options.order == OutputOrder::input) requests.emplace(executor, options.concurrency);
    if (streams.out_shares_progress_terminal && streams.progress != nullptr) {
      writer.set_output_hooks([this] { report.before_records(); },
                              [this] { report.after_records(); });
    }
    writer.set_failure_hook([this] { stop(StopReason::no_output, {}); });
  }

  void start(std::string url, Permit slot);
  // A task's record: written (or buffered with its slot), counted, and
  // checked for --fail-fast.
  void finish_task(FetchRecord record, std::optional<Permit> slot);
  void publish(FetchRecord record, std::optional<Permit> slot);
  void stop(StopReason reason, std::string cause);
  void poke() { wakeup.cancel(); }
  // The record error of a URL the stop cancelled (`started`) or never began.
  [[nodiscard]] RecordError stop_error(bool started) const;
  [[nodiscard]] RecordError classify(const std::exception_ptr& error, bool started) const;

  FetchOptions options;
  asio::any_io_executor executor;
  http::Session session;
  UrlSource source;
  async::Limiter window;                   // URLs read and not yet written
  std::optional<async::Limiter> requests;  // URLs in flight (input order)
  HostLimiter hosts;
  HostHedging hedging;
  RecordWriter writer;
  FetchReport report;
  std::vector<async::Task<void>> tasks;  // done ones are pruned now and then
  std::size_t next_index = 0;
  std::size_t active = 0;  // tasks started and not finished
  bool input_done = false;
  StopReason stop_reason = StopReason::none;
  std::string stop_cause;
  asio::steady_timer wakeup;  // the supervisor sleeps on it; poke() wakes it
};

asio::awaitable<void> fetch_one(FetchRun* run, std::size_t index, std::string url, Permit slot) {
  FetchRecord record;
  record.index = index;
  record.url = url;
  std::optional<Clock::time_point> started;
  try {
    const auto parsed = http::parse_http_url(url);  // an invalid URL fails here, unsent
    std::optional<Permit> in_flight;
    if (run->requests) in_flight.emplace(co_await run->requests->acquire());
    std::string origin = parsed.origin.scheme + "://" + parsed.origin.authority();
    std::shared_ptr<HostHedge> host_hedge;
    if (run->hedging.enabled()) host_hedge = run->hedging.of(origin);
    auto lease = co_await run->hosts.acquire(std::move(origin));
    started = Clock::now();
    RequestPlan plan{.session = &run->session,
                     .request = request_for(run->options, url),
                     .include_body = run->options.include_body,
                     .hedge = run->options.hedge,
                     .host_hedge = std::move(host_hedge),
                     .timeout = run->options.timeout};
    co_await perform_request(std::move(plan), &record);
  } catch (...) {
    record.error = run->classify(std::current_exception(), started.has_value());
  }
  if (started) {
    record.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - *started);
  }
  run->finish_task(std::move(record), std::move(slot));
}

void FetchRun::start(std::string url, Permit slot) {
  ++active;
  if (tasks.size() >= 2 * window.limit() + 16) {
    std::erase_if(tasks, [](const async::Task<void>& task) { return task.done(); });
  }
  tasks.push_back(
      async::spawn(executor, fetch_one(this, next_index++, std::move(url), std::move(slot))));
}

void FetchRun::finish_task(FetchRecord record, std::optional<Permit> slot) {
  --active;
  const bool failed = !record.ok();
  std::string url = failed ? record.url : std::string{};
  publish(std::move(record), std::move(slot));
  if (failed && options.fail_fast) stop(StopReason::fail_fast, std::move(url));
  if (active == 0 && input_done) poke();
}

void FetchRun::publish(FetchRecord record, std::optional<Permit> slot) {
  report.on_record(record);
  writer.add(std::move(record), std::move(slot));
}

void FetchRun::stop(StopReason reason, std::string cause) {
  if (stop_reason != StopReason::none) return;
  stop_reason = reason;
  stop_cause = std::move(cause);
  poke();
}

RecordError FetchRun::stop_error(bool started) const {
  switch (stop_reason) {
    case StopReason::deadline: {
      const auto deadline =
          std::to_string(options.deadline.value_or(std::chrono::milliseconds{0}).count());
      return {"deadline",
              started ? "cancelled when the batch deadline (--deadline " + deadline + " ms) passed"
                      : "not started: the batch deadline (--deadline " + deadline +
                            " ms) passed first"};
    }
    case StopReason::fail_fast:
      return {"cancelled", started ? "cancelled by --fail-fast after " + stop_cause + " failed"
                                   : "not started: --fail-fast stopped the batch after " +
                                         stop_cause + " failed"};
    case StopReason::interrupted:
      return {"cancelled", "cancelled: the fetch was interrupted"};
    case StopReason::no_output:
      return {"cancelled", "cancelled: the records could not be written"};
    case StopReason::none:
      break;
  }
  return {"cancelled", "cancelled"};
}

RecordError FetchRun::classify(const std::exception_ptr& error, bool started) const {
  if (async::is_cancellation(error)) return stop_error(started);
  std::string message = "unknown error";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    message = exception.what();
  } catch (...) {
  }
  if (const auto kind = http::error_kind_of(error)) {
    return {std::string{http::to_string(*kind)}, std::move(message)};
  }
  return {"internal", std::move(message)};
}

// Reads a URL each time the window has room and starts its task.
asio::awaitable<void> dispatch(FetchRun* run) {
  // However the reading ends (the input's end, or cancelled by a stop).
  struct MarkInputDone {
    FetchRun* run;
    ~MarkInputDone() {
      run->input_done = true;
      run->poke();
    }
  } mark_input_done{run};
  for (;;) {
    auto slot = co_await run->window.acquire();
    // A stop may come in the turn the permit was granted: read no further.
    if (run->stop_reason != StopReason::none) break;
    auto url = co_await run->source.next();
    if (!url) break;
    run->start(std::move(*url), std::move(slot));
  }
  run->report.set_total(run->source.taken());
}

// Returns when every URL is done, the deadline passed, a stop was asked or
// the caller was cancelled.
asio::awaitable<void> supervise(FetchRun* run, std::optional<Clock::time_point> deadline) {
  for (;;) {
    // Checked before each wait: a cancellation that came before it would
    // not end it.
    const auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (cancelled != asio::cancellation_type::none) run->stop(StopReason::interrupted, {});
    if (run->stop_reason != StopReason::none) co_return;
    if (run->input_done && run->active == 0) co_return;
    run->wakeup.expires_at(deadline.value_or(Clock::time_point::max()));
    boost::system::error_code error;
    co_await run->wakeup.async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (!error && !(run->input_done && run->active == 0)) run->stop(StopReason::deadline, {});
  }
}

// After a stop: one record for each URL not yet started that is there to
// read: the rest of a stream, what a pipe has sent so far (its producer may
// never end: the stop is not made to wait for it).
void report_unstarted(FetchRun& run) {
  while (auto url = run.source.next_if_ready()) {
    FetchRecord record;
    record.index = run.next_index++;
    record.url = std::move(*url);
    record.error = run.stop_error(false);
    run.publish(std::move(record), std::nullopt);
  }
  if (!run.source.exhausted()) {
    run.report.note("the input was read up to the stop only: the URLs sent after it got no record");
  }
}

void require(bool holds, const std::string& flag, const std::string& what) {
  if (!holds) throw std::invalid_argument{flag + ": " + what};
}

void validate_hedge_budget(const FetchOptions& options) {
  if (options.hedge_budget_percent) {
    const double percent = *options.hedge_budget_percent;
    require(percent >= 0, "--hedge-budget", "must not be negative (0: no cap)");
    require(options.hedge.has_value(), "--hedge-budget",
            "caps the extra attempts of --hedge, which is not given");
  }
  if (!options.hedge || !options.hedge->adaptive_delay) return;
  const double percent = options.effective_hedge_budget_percent();
  require(percent > 0, "--hedge auto",
          "needs a hedge budget above 0: the delay is chosen to spend it (--hedge-budget, 5 by "
          "default with auto)");
  require(percent <= 100, "--hedge-budget", "must be at most 100 with --hedge auto");
}

}  // namespace

void validate(const FetchOptions& options) {
  const auto zero = std::chrono::milliseconds::zero();
  require(options.concurrency >= 1, "--concurrency", "must be at least 1");
  require(options.timeout > zero, "--timeout", "must be more than 0");
  require(options.connect_timeout > zero, "--connect-timeout", "must be more than 0");
  require(!options.deadline || *options.deadline > zero, "--deadline", "must be more than 0");
  if (options.hedge) {
    require(options.hedge->extra_attempts <= FetchOptions::max_hedge_extra_attempts, "--hedge",
            "COUNT " + std::to_string(options.hedge->extra_attempts) +
                " is too many extra attempts; use 0 to " +
                std::to_string(FetchOptions::max_hedge_extra_attempts));
    require(!options.hedge->adaptive_delay || options.hedge->extra_attempts > 0, "--hedge auto",
            "COUNT must be at least 1: auto:0 fires no extra attempts, whose delay it would "
            "choose (omit --hedge to fetch without hedging)");
  }
  validate_hedge_budget(options);
}

namespace {

// fetch_all's work, in a task of its own. Its cancellation is a request it
// handles itself (supervise() sees it, the batch stops as interrupted): so
// that it can still join the tasks that use `run`, no co_await of its
// throws for it (Asio's throw_if_cancelled, which is this task's alone).
asio::awaitable<FetchTotals> fetch_batch(FetchOptions options, FetchStreams streams) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto executor = co_await asio::this_coro::executor;
  std::optional<Clock::time_point> deadline;
  if (options.deadline) deadline = Clock::now() + *options.deadline;
  FetchRun run{executor, std::move(options), std::move(streams)};

  auto reader = async::spawn(executor, dispatch(&run));
  co_await supervise(&run, deadline);

  // Stopped: cancel the reader, then (it starts no more) the requests;
  // either way wait for all of them: they use `run`.
  const bool stopped = run.stop_reason != StopReason::none;
  if (stopped) reader.cancel();
  co_await reader.join();
  if (stopped) {
    for (auto& task : run.tasks) task.cancel();
  }
  for (auto& task : run.tasks) co_await task.join();
  // The rest of the input gets its records too, unless interrupted (the
  // user wants out; reading on could block on a terminal).
  // Nor when the records cannot be written.
  if (stopped && run.stop_reason != StopReason::interrupted &&
      run.stop_reason != StopReason::no_output) {
    report_unstarted(run);
  }

  run.report.set_total(run.source.taken());
  if (const auto& error = run.source.read_error()) run.report.input_failed(*error);
  run.writer.finish();
  run.report.finish();
  run.session.close();
  if (const auto& failure = run.writer.failure()) throw std::runtime_error{*failure};
  if (run.stop_reason == StopReason::interrupted) async::throw_cancelled();
  co_return run.report.totals();
}

}  // namespace

asio::awaitable<FetchTotals> fetch_all(FetchOptions options, FetchStreams streams) {
  // Cancelling the caller cancels the batch and waits for it to end.
  auto batch = async::spawn(co_await asio::this_coro::executor,
                            fetch_batch(std::move(options), std::move(streams)));
  co_return co_await batch.result();
}

int run_fetch(const FetchOptions& options, const FetchStreams& streams) {
  asio::io_context io;
  // SIGINT/SIGTERM cancel the batch: what is in flight is reported as
  // cancelled, then the summary; exit status 130.
  asio::cancellation_signal interrupt;
  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&interrupt](const boost::system::error_code& error, int /*signal*/) {
    if (!error) interrupt.emit(asio::cancellation_type::terminal);
  });
  std::exception_ptr error;
  FetchTotals totals;
  asio::co_spawn(io, fetch_all(options, streams),
                 asio::bind_cancellation_slot(interrupt.slot(),
                                              [&](std::exception_ptr thrown, FetchTotals result) {
                                                error = thrown;
                                                totals = result;
                                                signals.cancel();
                                              }));
  io.run();
  if (error && async::is_cancellation(error)) return 130;
  if (error) std::rethrow_exception(error);
  return totals.failed == 0 && !totals.input_error ? 0 : 1;
}

}  // namespace tailcut::cli::fetch
