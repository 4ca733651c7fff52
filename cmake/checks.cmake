# checks.cmake: repository checks run by ctest, label "smoke".
#   check-layering   platform macros only under src/os, src/arch; ELF,
#                    dl_iterate_phdr, raw mmap & co. only under src/os
#   check-deps       `make deps` with stand-ins: the exact apt-get commands, root and user
#   check-format     clang-format --dry-run -Werror (style.md 2.8)
#   check-exports    libgort.so exports only gort_*
#   check-gort-text  all runtime code in section gort_text, bounds resolved
#   check-install    install to a temp prefix; pkg-config and CMake consumers
# They are defined in unsanitized builds only: sanitizer builds exist to run
# the runtime's tests (and an installed sanitized library would need its
# consumers built with the same flags).
if(GORT_SANITIZED)
  return()
endif()
set(GORT_TOOLS ${CMAKE_CURRENT_SOURCE_DIR}/tools)

add_test(NAME check-layering COMMAND ${GORT_TOOLS}/check-layering.sh ${CMAKE_CURRENT_SOURCE_DIR})
find_program(GORT_CLANG_FORMAT NAMES clang-format-14 clang-format)
add_test(NAME check-format
  COMMAND ${GORT_TOOLS}/check-format.sh ${CMAKE_CURRENT_SOURCE_DIR} ${GORT_CLANG_FORMAT})
set_tests_properties(check-format PROPERTIES SKIP_RETURN_CODE 77)
find_program(GORT_MAKE NAMES make gmake)
if(GORT_MAKE)
  add_test(NAME check-deps COMMAND ${GORT_TOOLS}/check-deps.sh ${CMAKE_CURRENT_SOURCE_DIR})
else()
  add_test(NAME check-deps COMMAND ${CMAKE_COMMAND} -E echo
    "check-deps: skipped: make not found (install Debian package make)")
  set_tests_properties(check-deps PROPERTIES DISABLED ON)
endif()
set_tests_properties(check-layering check-format check-deps PROPERTIES LABELS smoke)

add_executable(gort_text_probe tools/gort_text_probe.c)
target_link_libraries(gort_text_probe PRIVATE gort::gort)
add_executable(gort_text_probe_shared tools/gort_text_probe.c)
target_link_libraries(gort_text_probe_shared PRIVATE gort::gort_shared)

add_test(NAME check-exports COMMAND ${GORT_TOOLS}/check-exports.sh $<TARGET_FILE:gort_shared>)
add_test(NAME check-gort-text COMMAND ${GORT_TOOLS}/check-gort-text.sh
  $<TARGET_FILE:gort_static> $<TARGET_FILE:gort_shared>
  $<TARGET_FILE:gort_text_probe> $<TARGET_FILE:gort_text_probe_shared>)
add_test(NAME check-install COMMAND ${GORT_TOOLS}/check-install.sh
  ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(check-install PROPERTIES ENVIRONMENT "CC=${CMAKE_C_COMPILER}" TIMEOUT 120)
set_tests_properties(check-exports check-gort-text check-install PROPERTIES LABELS smoke)
