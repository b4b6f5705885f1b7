// Request handlers and small thread-safe helpers for tests of http::Server.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tailcut/http/router.hpp"
#include "tailcut/http/server_options.hpp"

namespace tailcut::testing {

// A one-shot event between threads.
class Event {
 public:
  void set() {
    {
      std::lock_guard lock{mutex_};
      set_ = true;
    }
    changed_.notify_all();
  }
  // True if the event is set within `limit`.
  bool wait_for(std::chrono::milliseconds limit) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, limit, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool set_ = false;
};

// Collects the server's error log lines.
class LogCapture {
 public:
  http::ServerErrorLog sink() {
    return [this](std::string_view line) {
      std::lock_guard lock{mutex_};
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() {
    std::lock_guard lock{mutex_};
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

inline http::Response text_response(std::string body) {
  http::Response response{boost::beast::http::status::ok, 11};
  response.set(boost::beast::http::field::content_type, "text/plain");
  response.body() = std::move(body);
  return response;
}

inline boost::asio::awaitable<http::Response> hello(http::Request, http::RequestContext) {
  co_return text_response("hello");
}

// {"id":..,"worker":..,"target":"..","body_bytes":..}
inline boost::asio::awaitable<http::Response> describe_request(http::Request request,
                                                               http::RequestContext context) {
  boost::json::object description;
  description["id"] = context.id;
  description["worker"] = context.worker;
  description["method"] = std::string_view{request.method_string()};
  description["target"] = std::string_view{request.target()};
  description["version"] = request.version();
  boost::json::array fields;  // [name, value], in the message's order
  for (const auto& field : request) {
    fields.push_back(
        boost::json::array{std::string_view{field.name_string()}, std::string_view{field.value()}});
  }
  description["fields"] = std::move(fields);
  description["keep_alive"] = request.keep_alive();
  description["body"] = request.body();
  description["body_bytes"] = request.body().size();
  co_return http::json_response(boost::beast::http::status::ok,
                                boost::json::serialize(description));
}

inline boost::asio::awaitable<http::Response> throw_error(http::Request, http::RequestContext) {
  throw std::runtime_error{"handler exploded\non a second line"};
  co_return http::Response{};
}

// Sets `entered`, waits `delay` on a timer, answers "slow done".
inline boost::asio::awaitable<http::Response> slow(std::shared_ptr<Event> entered,
                                                   std::chrono::milliseconds delay, http::Request,
                                                   http::RequestContext) {
  entered->set();
  boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor, delay};
  co_await timer.async_wait(boost::asio::use_awaitable);
  co_return text_response("slow done");
}

// A handler running slow() with `entered` and `delay`.
inline http::Handler slow_handler(std::shared_ptr<Event> entered, std::chrono::milliseconds delay) {
  return [entered, delay](http::Request request, http::RequestContext context) {
    return slow(entered, delay, std::move(request), context);
  };
}

}  // namespace tailcut::testing
