// Router: exact-path routing by method, with the 404 and 405 answers.
#include "tailcut/http/router.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <stdexcept>

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;

std::string join_methods(const std::vector<bhttp::verb>& methods) {
  std::string joined;
  for (const auto method : methods) {
    if (!joined.empty()) joined += ", ";
    joined += bhttp::to_string(method);
  }
  return joined;
}

boost::asio::awaitable<Response> ready(Response response) { co_return response; }

// The origin form ("/path?query") of a target in absolute form
// ("http://host/path?query", as clients send to proxies), which a server
// must accept (RFC 9112 3.2.2); nullopt for any other target.
std::optional<std::string> origin_form_of(std::string_view target) {
  const auto url = boost::urls::parse_absolute_uri(target);
  if (!url || (url->scheme_id() != boost::urls::scheme::http &&
               url->scheme_id() != boost::urls::scheme::https)) {
    return std::nullopt;
  }
  std::string origin_form = url->encoded_path().empty() ? "/" : std::string{url->encoded_path()};
  if (url->has_query()) origin_form.append("?").append(url->encoded_query());
  return origin_form;
}

void reject_route(const std::string& path, const std::string& reason) {
  throw std::invalid_argument{"tailcut::http::Router::add: route \"" + path + "\" " + reason};
}

}  // namespace

void Router::add(bhttp::verb method, std::string path, Handler handler) {
  if (path.empty() || path.front() != '/') reject_route(path, "must start with '/'");
  if (path.find_first_of("?#") != std::string::npos) {
    reject_route(path, "must be a path without query or fragment");
  }
  if (method == bhttp::verb::unknown) reject_route(path, "needs a known method");
  if (!handler) reject_route(path, "needs a handler");
  if (const auto existing = routes_.find(path);
      existing != routes_.end() && existing->second.contains(method)) {
    reject_route(path, "already has a handler for " + std::string{bhttp::to_string(method)});
  }
  routes_[path].emplace(method, std::move(handler));
}

// Not a coroutine itself: a routed request goes straight to its handler's
// coroutine, with no frame of the router's in between.
boost::asio::awaitable<Response> Router::dispatch(Request&& request,
                                                  const RequestContext& context) const {
  if (!request.target().starts_with('/')) {
    // Handlers see every target in origin form.
    if (auto origin_form = origin_form_of(request.target())) request.target(*origin_form);
  }
  const std::string_view path = path_of(request.target());
  if (const Handler* handler = find(request.method(), path)) {
    return (*handler)(std::move(request), context);
  }
  return ready(unrouted(request, path));
}

Response Router::unrouted(const Request& request, std::string_view path) const {
  const std::vector<bhttp::verb> allowed = methods_on(path);
  if (allowed.empty()) {
    return json_error(bhttp::status::not_found, "not_found", "no resource at " + std::string{path});
  }
  Response response = json_error(bhttp::status::method_not_allowed, "method_not_allowed",
                                 std::string{request.method_string()} + " is not allowed on " +
                                     std::string{path} + "; allowed: " + join_methods(allowed));
  response.set(bhttp::field::allow, join_methods(allowed));
  return response;
}

std::vector<bhttp::verb> Router::methods_on(std::string_view path) const {
  std::vector<bhttp::verb> methods;
  const auto routes = routes_.find(path);
  if (routes == routes_.end()) return methods;
  for (const auto& route : routes->second) methods.push_back(route.first);
  if (routes->second.contains(bhttp::verb::get) && !routes->second.contains(bhttp::verb::head)) {
    methods.push_back(bhttp::verb::head);
    std::sort(methods.begin(), methods.end());
  }
  return methods;
}

std::string_view Router::path_of(std::string_view target) noexcept {
  return target.substr(0, target.find('?'));
}

const Handler* Router::find(bhttp::verb method, std::string_view path) const {
  const auto routes = routes_.find(path);
  if (routes == routes_.end()) return nullptr;
  if (const auto route = routes->second.find(method); route != routes->second.end()) {
    return &route->second;
  }
  if (method == bhttp::verb::head) {
    if (const auto get = routes->second.find(bhttp::verb::get); get != routes->second.end()) {
      return &get->second;
    }
  }
  return nullptr;
}

}  // namespace tailcut::http
