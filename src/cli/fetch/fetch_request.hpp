// One URL's request for tailcut fetch: a single request, or a hedge of
// them (--hedge DELAY:COUNT or auto[:COUNT]) through tailcut::policy::hedge.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cli/fetch/fetch.hpp"
#include "cli/fetch/host_hedging.hpp"
#include "cli/fetch/record.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::cli::fetch {

struct RequestPlan {
  http::Session* session;
  http::RequestOptions request;  // url and timeouts set
  bool include_body = false;
  std::optional<HedgeSpec> hedge{};
  // The URL's origin's adaptive delay and budget, if it has them; held
  // until the request ends.
  std::shared_ptr<HostHedge> host_hedge{};
  std::chrono::milliseconds timeout{};  // the URL's whole budget
};

// The template request of `options` aimed at `url`, with fetch's timeouts.
http::RequestOptions request_for(const FetchOptions& options, const std::string& url);

// Sends the request and fills status, bytes, attempts (and body) of
// `record`. Any HTTP status is a response; with hedging a 5xx counts as a
// failed attempt (another may succeed) and, when every attempt fails, the
// last 5xx seen is the answer. Throws what the request failed with
// (http::ClientError, or operation_aborted when cancelled).
boost::asio::awaitable<void> perform_request(RequestPlan plan, FetchRecord* record);

}  // namespace tailcut::cli::fetch
