// hedge: the non-template helpers.
#include "tailcut/policy/hedge.hpp"

#include <exception>

namespace tailcut::policy::detail {

std::string describe_failure(const async::detail::TaskStateBase& task) {
  // Noted when the task caught it; rethrown only when it was not.
  if (!task.failure_description().empty()) return task.failure_description();
  try {
    std::rethrow_exception(task.error());
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace tailcut::policy::detail
