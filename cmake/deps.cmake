# deps.cmake: what the build takes from installed Debian packages, checked so
# that a missing one stops the configure with the package to install (the
# Makefile's DEB_PACKAGES lists them all; `make deps` installs them).
#
# Included before project() (GORT_DEPS_STAGE "pre") for the sanitizer
# runtimes, which project()'s own compiler test would otherwise trip over with
# "compiler cannot create executables". No header is needed from a package:
# the runtime issues valgrind's client requests itself (src/sanitize.h).
# Optional tools (python3, GNU time, Go) are found where their tests are
# declared, and those tests are skipped with the reason when one is absent.

function(gort_require_package what pkg)
  message(FATAL_ERROR "gort: ${what} not found: install the Debian package ${pkg} "
    "(`make deps` installs every package the build needs)")
endfunction()

if(GORT_DEPS_STAGE STREQUAL "pre")
  # Sanitizer runtimes of the presets: tsan links clang's (libclang-rt-14-dev,
  # only recommended by clang), asan/ubsan gcc's (libgcc-12-dev, part of gcc).
  set(_flags "${CMAKE_C_FLAGS}")
  if(_flags MATCHES "-fsanitize=")
    set(_cc "${CMAKE_C_COMPILER}")
    if(NOT _cc)
      if(DEFINED ENV{CC})
        set(_cc "$ENV{CC}")
      else()
        set(_cc cc)
      endif()
    endif()
    execute_process(COMMAND ${_cc} --version OUTPUT_VARIABLE _ver ERROR_QUIET)
    set(_libs)
    if(_ver MATCHES "clang")
      foreach(s thread address undefined)
        if(_flags MATCHES "-fsanitize=[a-z,]*${s}")
          string(REPLACE thread tsan _l ${s})
          string(REPLACE address asan _l ${_l})
          string(REPLACE undefined ubsan_standalone _l ${_l})
          list(APPEND _libs "libclang_rt.${_l}-x86_64.a:libclang-rt-14-dev")
        endif()
      endforeach()
    else()
      foreach(s thread address undefined)
        if(_flags MATCHES "-fsanitize=[a-z,]*${s}")
          string(REPLACE thread tsan _l ${s})
          string(REPLACE address asan _l ${_l})
          string(REPLACE undefined ubsan _l ${_l})
          list(APPEND _libs "lib${_l}.so:gcc (libgcc-12-dev)")
        endif()
      endforeach()
    endif()
    foreach(e ${_libs})
      string(REPLACE ":" ";" e "${e}")
      list(GET e 0 lib)
      list(GET e 1 pkg)
      execute_process(COMMAND ${_cc} -print-file-name=${lib}
        OUTPUT_VARIABLE _path OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(NOT IS_ABSOLUTE "${_path}" OR NOT EXISTS "${_path}")
        gort_require_package("the sanitizer runtime ${lib} of ${_cc}" "${pkg}")
      endif()
    endforeach()
  endif()
endif()
