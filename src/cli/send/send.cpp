// send_all: one attempt per endpoint through policy::failover, and the
// event log that makes every endpoint's fate visible.
#include "cli/send/send.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "http/common/text_escape.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/http/session.hpp"
#include "tailcut/http/url.hpp"
#include "tailcut/policy/failover.hpp"

namespace tailcut::cli::send {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Outcome = policy::EndpointOutcome<http::ClientResponse>;

// A response that is not 2xx: the endpoint did not take the delivery.
class NotDelivered : public std::runtime_error {
 public:
  NotDelivered(int status, const std::string& message)
      : std::runtime_error{message}, status_{status} {}
  [[nodiscard]] int status() const noexcept { return status_; }

 private:
  int status_;
};

// Writes one JSON line per event, flushed at once, and counts them.
class EventLog {
 public:
  EventLog(std::ostream* out, std::vector<std::string> urls, milliseconds linger)
      : out_{out}, urls_{std::move(urls)}, linger_{linger} {}

  void failed(std::size_t endpoint, milliseconds elapsed, const std::exception_ptr& error) {
    std::optional<int> status;
    RecordError detail{"internal", "unknown error"};
    try {
      std::rethrow_exception(error);
    } catch (const NotDelivered& not_delivered) {
      status = not_delivered.status();
      detail = {"http_status", not_delivered.what()};
    } catch (const http::ClientError& client_error) {
      detail = {std::string{http::to_string(client_error.kind())}, client_error.what()};
    } catch (const std::exception& other) {
      detail = {"internal", other.what()};
    } catch (...) {
    }
    ++failed_;
    write("failed", endpoint, status, elapsed, detail);
  }

  void delivered(bool first, std::size_t endpoint, int status, milliseconds elapsed) {
    ++delivered_;
    write(first ? "delivered" : "also_delivered", endpoint, status, elapsed, std::nullopt);
  }

  void unknown(std::size_t endpoint, milliseconds elapsed, bool after_delivery) {
    ++unknown_;
    const auto limit = after_delivery ? "the linger time (" + std::to_string(linger_.count()) +
                                            " ms) after the delivery"
                                      : "the per-try and linger time after the last endpoint";
    write("unknown", endpoint, std::nullopt, elapsed,
          RecordError{"unknown", "still in flight when " + limit +
                                     " ended; cancelled: it may or may not have been delivered"});
  }

  void summary(std::ostream& out) const {
    out << "tailcut send: " << (delivered_ > 0 ? "delivered" : "NOT delivered") << " ("
        << delivered_ << " delivered, " << failed_ << " failed, " << unknown_ << " unknown, of "
        << urls_.size() << " endpoints)\n";
  }

  // Why the events could not be written, once one could not.
  [[nodiscard]] const std::optional<std::string>& failure() const noexcept { return failure_; }

 private:
  struct RecordError {
    std::string category;
    std::string message;
  };

  // Written by hand with json_string: a URL or an error message may hold
  // bytes that are not valid UTF-8, which Boost.JSON copies as they are.
  void write(const char* event, std::size_t endpoint, std::optional<int> status,
             milliseconds elapsed, const std::optional<RecordError>& error) {
    using http::detail::append_json_string;
    std::string line = R"({"event":")";
    line += event;
    line += R"(","url":)";
    append_json_string(line, urls_.at(endpoint));
    line += R"(,"status":)";
    line += status ? std::to_string(*status) : "null";
    line += R"(,"ms":)" + std::to_string(elapsed.count());
    line += R"(,"error":)";
    if (error) {
      line += R"({"category":)";
      append_json_string(line, error->category);
      line += R"(,"message":)";
      append_json_string(line, error->message);
      line += '}';
    } else {
      line += "null";
    }
    line += "}\n";
    if (failure_) return;
    errno = 0;
    *out_ << line << std::flush;
    if (!*out_) {
      const int error_number = errno;
      failure_ =
          "cannot write the events to standard output" +
          (error_number != 0 ? std::string{": "} + std::strerror(error_number) : std::string{});
    }
  }

  std::ostream* out_;
  std::vector<std::string> urls_;
  milliseconds linger_;
  std::size_t delivered_ = 0;
  std::size_t failed_ = 0;
  std::size_t unknown_ = 0;
  std::optional<std::string> failure_;
};

// One endpoint's delivery. Its failure is reported here, as it happens; a
// cancellation is reported by whoever cancelled it (as unknown).
asio::awaitable<http::ClientResponse> deliver(http::Session* session, http::RequestOptions request,
                                              EventLog* log, std::size_t endpoint) {
  const auto started = Clock::now();
  const std::string url = request.url;
  try {
    auto response = co_await session->request(std::move(request));
    if (!response.ok()) {
      throw NotDelivered{response.status,
                         "HTTP " + std::to_string(response.status) + " from " + url};
    }
    co_return response;
  } catch (...) {
    const auto error = std::current_exception();
    if (!async::is_cancellation(error)) {
      log->failed(endpoint, std::chrono::duration_cast<milliseconds>(Clock::now() - started),
                  error);
    }
    throw;
  }
}

policy::EndpointAttempt<http::ClientResponse> make_attempt(http::Session* session,
                                                           http::RequestOptions request,
                                                           EventLog* log, std::size_t endpoint) {
  return [session, request = std::move(request), log, endpoint] {
    return deliver(session, request, log, endpoint);
  };
}

// What failover reports after it returned (failures were logged already).
void report_late(EventLog* log, const Outcome& late) {
  if (late.state == policy::EndpointState::succeeded) {
    log->delivered(false, late.endpoint, late.value->status, late.elapsed);
  } else if (late.state == policy::EndpointState::unknown) {
    log->unknown(late.endpoint, late.elapsed, true);
  }
}

}  // namespace

void validate(const SendOptions& options) {
  if (options.endpoints.empty()) throw std::invalid_argument{"--to: no endpoints to send to"};
  for (const auto& endpoint : options.endpoints) {
    try {
      (void)http::parse_http_url(endpoint);
    } catch (const http::ClientError& error) {
      throw std::invalid_argument{"--to: " + std::string{error.what()}};
    }
  }
  if (options.per_try < milliseconds::zero()) {
    throw std::invalid_argument{"--per-try: must not be negative"};
  }
  if (options.linger < milliseconds::zero()) {
    throw std::invalid_argument{"--linger: must not be negative"};
  }
}

namespace {

// send_all's work, in a task of its own (see the end).
asio::awaitable<bool> deliver_and_report(SendOptions options, std::ostream* out,
                                         std::ostream* summary) {
  const auto executor = co_await asio::this_coro::executor;
  http::SessionOptions session_options;
  session_options.ca_file = options.ca_file;
  http::Session session{executor, session_options};
  EventLog log{out, options.endpoints, options.linger};

  std::vector<policy::EndpointAttempt<http::ClientResponse>> attempts;
  for (std::size_t endpoint = 0; endpoint < options.endpoints.size(); ++endpoint) {
    http::RequestOptions request = options.request;
    request.url = options.endpoints[endpoint];
    request.follow_redirects = false;
    attempts.push_back(make_attempt(&session, std::move(request), &log, endpoint));
  }
  policy::LateResultHandler<http::ClientResponse> on_late =
      [log_pointer = &log](const Outcome& late) { report_late(log_pointer, late); };
  policy::FailoverOptions failover_options;
  failover_options.per_try = options.per_try;
  failover_options.linger = options.linger;
  auto result = co_await policy::failover(std::move(attempts), failover_options, on_late);

  // The winner first, then whatever else is settled already.
  if (result.delivered()) {
    auto& winner = result.winner_outcome();
    log.delivered(true, winner.endpoint, winner.value->status, winner.elapsed);
  }
  for (const auto& outcome : result.endpoints) {
    if (result.winner == outcome.endpoint) continue;
    if (outcome.state == policy::EndpointState::succeeded) {
      log.delivered(false, outcome.endpoint, outcome.value->status, outcome.elapsed);
    } else if (outcome.state == policy::EndpointState::unknown) {
      log.unknown(outcome.endpoint, outcome.elapsed, false);
    }
  }
  // The late results use `log` and `session`: wait for them. Cancelling
  // this task ends the lingering early; the wait for them goes on all the
  // same, with Asio's throw_if_cancelled (this task's alone) turned off.
  bool cancelled = false;
  try {
    co_await result.settled.join();
  } catch (...) {
    cancelled = true;
  }
  if (cancelled) {
    result.settled.cancel();
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await result.settled.join();
  }
  session.close();
  if (summary != nullptr) log.summary(*summary);
  if (const auto& failure = log.failure()) throw std::runtime_error{*failure};
  if (cancelled) async::throw_cancelled();
  co_return result.delivered();
}

}  // namespace

asio::awaitable<bool> send_all(SendOptions options, std::ostream* out, std::ostream* summary) {
  if (options.endpoints.empty()) throw std::invalid_argument{"no endpoints to send to"};
  // Cancelling the caller cancels the delivery and waits for it to end.
  auto delivery = async::spawn(co_await asio::this_coro::executor,
                               deliver_and_report(std::move(options), out, summary));
  co_return co_await delivery.result();
}

int run_send(const SendOptions& options, std::ostream& out, std::ostream* summary) {
  asio::io_context io;
  std::exception_ptr error;
  bool delivered = false;
  asio::co_spawn(io, send_all(options, &out, summary), [&](std::exception_ptr thrown, bool result) {
    error = thrown;
    delivered = result;
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return delivered ? 0 : 1;
}

}  // namespace tailcut::cli::send
