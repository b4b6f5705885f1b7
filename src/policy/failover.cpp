// failover: the non-template helpers.
#include "tailcut/policy/failover.hpp"

namespace tailcut::policy {

std::string_view to_string(EndpointState state) noexcept {
  switch (state) {
    case EndpointState::running:
      return "running";
    case EndpointState::succeeded:
      return "succeeded";
    case EndpointState::failed:
      return "failed";
    case EndpointState::unknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace tailcut::policy
