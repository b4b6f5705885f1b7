# Every dependency comes from Debian 12 packages (scripts/setup.sh).
# Boost 1.81 is required: Debian's default libboost-dev is 1.74.
find_package(Boost 1.81.0 EXACT REQUIRED COMPONENTS json url system CONFIG)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(prometheus-cpp REQUIRED)

# The sanitizers bring their own allocator.
if(TAILCUT_ALLOCATOR STREQUAL "tcmalloc" AND NOT TAILCUT_SANITIZE AND NOT TAILCUT_TSAN)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
elseif(NOT TAILCUT_ALLOCATOR MATCHES "^(tcmalloc|system)$")
  message(FATAL_ERROR "TAILCUT_ALLOCATOR must be tcmalloc or system, not '${TAILCUT_ALLOCATOR}'")
endif()
