// Router: maps a request's method and exact path to its handler, and answers
// unknown paths (404) and wrong methods (405 with Allow) itself.
//
//   http::Router router;
//   router.add(boost::beast::http::verb::get, "/healthz", healthz);   // Handler, see below
//   http::Server server{options, std::move(router)};
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tailcut/http/message.hpp"

namespace tailcut::http {

// What the server knows about a request besides its message.
struct RequestContext {
  std::uint64_t id;  // unique and increasing per server; also sent as X-Request-Id
  // When the request was fully read, less the time its last bytes had
  // already waited in the kernel (their receive time stamp; see
  // ServerOptions::count_kernel_wait).
  // Under load a request can queue there for tens of milliseconds, and a
  // deadline counted from the read alone would miss that time, though
  // the client counts it.
  std::chrono::steady_clock::time_point received_at;
  boost::asio::ip::tcp::endpoint remote;  // the client's address
  std::size_t worker;  // index of the worker thread running the handler, < worker_count()
};

// Produces the response to one request. It runs on the connection's worker
// thread, so it may use that worker's single-threaded objects (see
// RequestContext::worker). Handlers of one router run concurrently on several
// workers: what they share across workers must be thread-safe. A handler must
// not block its thread; it may throw (the client gets a 500), or call
// drop_connection() to answer nothing. At forced shutdown its pending
// operations are cancelled (operation_aborted).
using Handler = std::function<boost::asio::awaitable<Response>(Request, RequestContext)>;

// What drop_connection() throws. Not a std::exception: nothing meant for
// errors catches it on its way to the server.
struct DropConnection {};

// Ends the handler, and the server closes the connection without writing a
// response: what a server that hangs up does (the simulator's hang). Not
// logged as a failure.
[[noreturn]] inline void drop_connection() { throw DropConnection{}; }

class Router {
 public:
  // Registers `handler` for `method` on exactly `path` (starts with '/', no
  // query). A GET route also answers HEAD unless HEAD has its own route.
  // Throws std::invalid_argument for a bad path, an unknown method, an empty
  // handler or a route that is already registered. Not thread-safe: build
  // the router before the server starts.
  void add(boost::beast::http::verb method, std::string path, Handler handler);

  // Routes by method and by the path part of the target (the query string is
  // ignored) and runs the route's handler. Answers an unknown path with 404
  // and a known path with another method with 405 and `Allow`, both as
  // json_error bodies. Exceptions of the handler propagate to the caller
  // (the server turns them into a 500). Thread-safe (const); the router must
  // outlive the returned awaitable. Not a coroutine: the handler's own
  // coroutine (which takes its copies) is returned, so the arguments need
  // only live for the call.
  [[nodiscard]] boost::asio::awaitable<Response> dispatch(Request&& request,
                                                          const RequestContext& context) const;

  // The methods routed on `path` (HEAD included when GET is), in verb order;
  // empty for an unknown path.
  [[nodiscard]] std::vector<boost::beast::http::verb> methods_on(std::string_view path) const;

  // The path part of a request target: "/a/b?x=1" gives "/a/b".
  [[nodiscard]] static std::string_view path_of(std::string_view target) noexcept;

 private:
  // Handlers of one path, by method.
  using RoutesOfPath = std::map<boost::beast::http::verb, Handler>;

  [[nodiscard]] const Handler* find(boost::beast::http::verb method, std::string_view path) const;
  // The 404 or 405 answer to a request no route takes.
  [[nodiscard]] Response unrouted(const Request& request, std::string_view path) const;

  std::map<std::string, RoutesOfPath, std::less<>> routes_;
};

}  // namespace tailcut::http
