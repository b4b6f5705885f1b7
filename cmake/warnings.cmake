# Warnings are errors in tailcut's own code (system headers stay quiet).
add_library(tailcut_warnings INTERFACE)
target_compile_options(tailcut_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2 -Werror
  # g++ 12 reports false -Wrestrict positives inside libstdc++'s string
  # operations at -O3 (GCC bug 105329); clang does not know the flag.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
