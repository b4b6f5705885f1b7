# Warnings are errors in tailcut's own code (system headers stay quiet).
add_library(tailcut_warnings INTERFACE)
target_compile_options(tailcut_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2 -Werror)
