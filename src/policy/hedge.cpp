// hedge: the non-template helpers.
#include "tailcut/policy/hedge.hpp"

#include <exception>

namespace tailcut::policy {

std::string AttemptRecord::failure() const {
  if (state != AttemptState::failed) return {};
  // Noted when the task caught it; rethrown only when it was not.
  if (!noted_failure.empty()) return noted_failure;
  if (!error) return "unknown error";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace tailcut::policy
