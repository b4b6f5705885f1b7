// GET /api/smart?timeout=MS — hedged upstream requests that always answer
// within the deadline.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "gateway/gateway_shard.hpp"
#include "tailcut/http/router.hpp"

namespace tailcut::gateway {

// Answers one call on the worker that owns `shard` (its session, margin,
// budget and metrics); the shard outlives every call it serves.
boost::asio::awaitable<http::Response> handle_smart_call(GatewayShard& shard, http::Request request,
                                                         http::RequestContext context);

}  // namespace tailcut::gateway
