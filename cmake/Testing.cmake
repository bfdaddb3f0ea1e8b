# How GoogleTest executables are registered with CTest, shared by tests/ and
# soak/. Tests that also run in the sanitizer builds (CMakePresets.json:
# asan-ubsan, tsan) get the label `sanitized`, and their executable becomes
# a dependency of the `sanitized_tests` target, so a sanitizer build compiles
# exactly what it runs and nothing else (scripts/test's time budget).
include(GoogleTest)

# longhaul_add_gtests(TARGET LABEL [SANITIZED] [TIMEOUT seconds])
function(longhaul_add_gtests target label)
  cmake_parse_arguments(arg "SANITIZED" "TIMEOUT" "" ${ARGN})
  set(labels ${label})
  if(arg_SANITIZED)
    list(APPEND labels sanitized)
    set_property(GLOBAL APPEND PROPERTY LONGHAUL_SANITIZED_TEST_TARGETS ${target})
  endif()
  set(properties LABELS "${labels}")
  if(arg_TIMEOUT)
    list(APPEND properties TIMEOUT ${arg_TIMEOUT})
  endif()
  gtest_discover_tests(${target} PROPERTIES ${properties} DISCOVERY_TIMEOUT 30)
endfunction()

# Called once every folder has registered its tests (top-level CMakeLists.txt).
function(longhaul_add_sanitized_tests_target)
  get_property(targets GLOBAL PROPERTY LONGHAUL_SANITIZED_TEST_TARGETS)
  add_custom_target(sanitized_tests)
  add_dependencies(sanitized_tests ${targets})
endfunction()
