// The simulator's HTTP face: /api/work plays the next planned answer,
// /stats shows the counters, /healthz says it is up.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "upstream/simulator.hpp"

namespace tailcut::upstream {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

namespace {

// Keeps the in-flight count right however the handler ends.
class InFlight {
 public:
  explicit InFlight(Simulator& simulator) : simulator_{simulator} { simulator_.on_started(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() {
    if (answered_) {
      simulator_.on_answered();
    } else {
      simulator_.on_aborted();
    }
  }
  void answered() noexcept { answered_ = true; }

 private:
  Simulator& simulator_;
  bool answered_ = false;
};

asio::awaitable<http::Response> handle_work(std::shared_ptr<Simulator> simulator,
                                            http::Request request, http::RequestContext) {
  const ScriptedAnswer answer = simulator->plan_next();
  InFlight in_flight{*simulator};
  if (answer.hang || answer.delay > std::chrono::milliseconds::zero()) {
    asio::steady_timer timer{co_await asio::this_coro::executor};
    timer.expires_after(answer.hang ? simulator->options().hang_duration : answer.delay);
    co_await timer.async_wait(asio::use_awaitable);  // cancelled when the client goes away
  }

  if (answer.hang) {
    in_flight.answered();     // it ran its course: not aborted by the client
    http::drop_connection();  // the hang ends as it began: with no answer
  }
  http::Response response{static_cast<beast_http::status>(answer.status), request.version()};
  response.set(beast_http::field::content_type, "application/json");
  response.body() =
      answer.body.value_or(R"({"time": )" + std::to_string(answer.delay.count()) + "}");
  in_flight.answered();
  co_return response;
}

asio::awaitable<http::Response> handle_stats(std::shared_ptr<Simulator> simulator, http::Request,
                                             http::RequestContext) {
  const auto counters = simulator->counters();
  boost::json::object stats;
  stats["received"] = counters.received;
  stats["in_flight"] = counters.in_flight;
  stats["answered"] = counters.answered;
  stats["aborted"] = counters.aborted;
  co_return http::json_response(beast_http::status::ok, boost::json::serialize(stats));
}

asio::awaitable<http::Response> handle_healthz(http::Request, http::RequestContext) {
  co_return http::json_response(beast_http::status::ok, R"({"status":"ok"})");
}

}  // namespace

void add_routes(http::Router& router, std::shared_ptr<Simulator> simulator) {
  router.add(beast_http::verb::get, "/api/work",
             [simulator](http::Request request, http::RequestContext context) {
               return handle_work(simulator, std::move(request), context);
             });
  router.add(beast_http::verb::get, "/stats",
             [simulator](http::Request request, http::RequestContext context) {
               return handle_stats(simulator, std::move(request), context);
             });
  router.add(beast_http::verb::get, "/healthz", handle_healthz);
}

}  // namespace tailcut::upstream
