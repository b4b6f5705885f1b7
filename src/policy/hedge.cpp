// hedge: the non-template helpers.
#include "tailcut/policy/hedge.hpp"

#include <exception>

namespace tailcut::policy::detail {

std::string describe_failure(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace tailcut::policy::detail
