# Installs the build tree into a scratch prefix, builds examples/ against it
# as an outside project (find_package(tailcut) only), then runs every
# example against local servers (run_examples.sh). Fails on any step.
#
# EXAMPLES_CXX_FLAGS: compile and link flags of the outside build, e.g. the
# sanitizers of a sanitizer build (a sanitized library needs them).
# EXAMPLES_COMPILER_LAUNCHER: ccache, when the build tree uses it.
file(REMOVE_RECURSE ${WORK_DIR})
function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "step failed (${result}): ${ARGN}\n${output}")
  endif()
  set(output "${output}" PARENT_SCOPE)
endfunction()
run_step(${CMAKE_COMMAND} --install ${TAILCUT_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run_step(${CMAKE_COMMAND} -S ${EXAMPLES_SOURCE_DIR} -B ${WORK_DIR}/build -G Ninja
         "-DCMAKE_BUILD_TYPE=${EXAMPLES_BUILD_TYPE}" -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
         "-DCMAKE_CXX_FLAGS=${EXAMPLES_CXX_FLAGS}"
         "-DCMAKE_EXE_LINKER_FLAGS=${EXAMPLES_CXX_FLAGS}"
         "-DCMAKE_CXX_COMPILER_LAUNCHER=${EXAMPLES_COMPILER_LAUNCHER}")
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step(${CMAKE_CURRENT_LIST_DIR}/run_examples.sh ${WORK_DIR}/build)
message(STATUS "${output}")
