# veil_add_test(NAME SOURCES ... LIBS ... LABELS part [part2])
# Builds one Catch2 executable and registers two ctest entries: NAME runs every test case
# except those tagged [slow]; NAME_slow (only when a source has a [slow] case) runs the [slow]
# ones and carries the `slow` label.
# `ctest -L crypto` runs one part; `ctest -LE slow` is the default quick run.
# tests/support: helpers every test may use (a test loop, temp dirs and child processes, a node
# RPC client, the testnet fixture), included as "support/<name>.hpp".
add_library(veil_test_support INTERFACE)
target_include_directories(veil_test_support INTERFACE ${PROJECT_SOURCE_DIR}/tests)

if(VEIL_BUILD_TESTS AND NOT VEIL_FUZZ)
  find_package(Catch2 2.13 REQUIRED)
  enable_testing()
  add_library(veil_catch_main STATIC ${PROJECT_SOURCE_DIR}/tests/catch_main.cpp)
  target_link_libraries(veil_catch_main PUBLIC Catch2::Catch2)
endif()

# A cross build (cmake/toolchains, presets cross-arm64 and cross-armhf) runs its tests under the
# emulator (CMAKE_CROSSCOMPILING_EMULATOR; ctest prefixes a test's own executable with it). A
# test that starts a program of this build (veil, a helper) prefixes it with VEIL_EMULATOR
# (tests/support/process.hpp), and so does `veil testnet up` for the nodes it starts.
if(CMAKE_CROSSCOMPILING_EMULATOR)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " VEIL_TEST_EMULATOR)
  set(VEIL_TEST_ENVIRONMENT "VEIL_EMULATOR=${VEIL_TEST_EMULATOR}")
else()
  set(VEIL_TEST_ENVIRONMENT "")
endif()

function(veil_add_test name)
  if(NOT VEIL_BUILD_TESTS OR VEIL_FUZZ)
    return()
  endif()
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 5")   # qemu-user runs our code ~5-10 times slower
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE veil_catch_main veil_test_support veil_warnings ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    VEIL_SOURCE_DIR="${PROJECT_SOURCE_DIR}" VEIL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name} "~[slow]" --warn NoAssertions)
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "${VEIL_TEST_ENVIRONMENT}")
  # A NAME_slow entry only where a source tags a test case [slow]: Catch2 2.13 exits 0 on "No
  # tests ran", so an entry without slow cases would report Passed having run nothing. CMake
  # re-reads a source when it changes, so a newly tagged case gets its entry.
  set(has_slow FALSE)
  foreach(src IN LISTS T_SOURCES)
    get_filename_component(path ${src} ABSOLUTE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
    file(STRINGS ${path} slow_lines REGEX "\"[^\"]*\\[slow\\]")
    if(slow_lines)
      set(has_slow TRUE)
    endif()
  endforeach()
  if(has_slow)
    add_test(NAME ${name}_slow COMMAND ${name} "[slow]" --warn NoAssertions)
    set_tests_properties(${name}_slow PROPERTIES LABELS "${T_LABELS};slow" TIMEOUT 3600
                         ENVIRONMENT "${VEIL_TEST_ENVIRONMENT}")
  endif()
endfunction()

# veil_add_fuzzer(NAME SOURCES ... LIBS ... LABELS part CORPUS dir)
# Only in a VEIL_FUZZ build (clang, ASan+UBSan). Registers a short ctest run over the corpus.
function(veil_add_fuzzer name)
  if(NOT VEIL_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "CORPUS;SECONDS" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT F_SECONDS)
    set(F_SECONDS 20)
  endif()
  add_executable(${name} ${F_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE veil_test_support veil_warnings ${F_LIBS})
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
            sh -c "mkdir -p '${work}' && exec '$<TARGET_FILE:${name}>' -max_total_time=${F_SECONDS} -rss_limit_mb=2048 -timeout=10 '${work}' '${F_CORPUS}'")
  set_tests_properties(${name} PROPERTIES LABELS "${F_LABELS};fuzz" TIMEOUT 600)
  add_dependencies(veil_fuzzers ${name})
endfunction()
if(VEIL_FUZZ)
  enable_testing()
  add_custom_target(veil_fuzzers)
endif()
