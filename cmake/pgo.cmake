# Profile-guided optimization of the `tailcut` binary (scripts/build-optimized.sh
# drives it): a GENERATE build is instrumented, scripts/pgo-train.sh runs it
# under the gateway's workloads, and a USE build is optimized with what that
# run counted (about 11 % fewer instructions per proxied call:
# docs/performance.md).
set(TAILCUT_PGO "OFF" CACHE STRING "Profile-guided optimization: OFF, GENERATE or USE")
set_property(CACHE TAILCUT_PGO PROPERTY STRINGS OFF GENERATE USE)
set(TAILCUT_PGO_DIR "" CACHE PATH "Where GENERATE writes its profile and USE reads it")

if(TAILCUT_PGO STREQUAL "OFF")
  return()
endif()
if(NOT TAILCUT_PGO MATCHES "^(GENERATE|USE)$")
  message(FATAL_ERROR "TAILCUT_PGO is OFF, GENERATE or USE, not '${TAILCUT_PGO}'")
endif()
if(NOT IS_ABSOLUTE "${TAILCUT_PGO_DIR}")
  message(FATAL_ERROR "TAILCUT_PGO=${TAILCUT_PGO} needs TAILCUT_PGO_DIR, an absolute path")
endif()

# The profile's file names are the object files' paths below the build
# directory, so that the two builds, in two directories, find the same names.
set(pgo_prefix "-fprofile-prefix-path=${CMAKE_BINARY_DIR}")
if(TAILCUT_PGO STREQUAL "GENERATE")
  # Atomic counters: the training runs several worker threads.
  add_compile_options("-fprofile-generate=${TAILCUT_PGO_DIR}" -fprofile-update=prefer-atomic
                      "${pgo_prefix}")
  add_link_options("-fprofile-generate=${TAILCUT_PGO_DIR}")
else()
  # Code the training never ran is optimized as usual, not for size; a file
  # it never reached has no profile, which is no reason to stop the build.
  add_compile_options("-fprofile-use=${TAILCUT_PGO_DIR}" -fprofile-partial-training
                      "${pgo_prefix}" -Wno-missing-profile)
  # ccache does not know where -fprofile-prefix-path puts the profile, so it
  # could hand back an object optimized with another one.
  set(CMAKE_CXX_COMPILER_LAUNCHER "")
endif()
