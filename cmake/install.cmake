# install.cmake: header, libgort.a, libgort.so (+ SONAME links), libgort_rt0.a,
# gort.pc and the CMake package (gortConfig.cmake, gortConfigVersion.cmake,
# gortTargets.cmake exporting gort::gort, gort::gort_shared, gort::gort_rt0).
include(CMakePackageConfigHelpers)

set(GORT_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/gort)
set(GORT_PCDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES include/gort.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS gort_static gort_shared gort_rt0 EXPORT gortTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT gortTargets NAMESPACE gort:: FILE gortTargets.cmake
  DESTINATION ${GORT_CMAKEDIR})

configure_package_config_file(cmake/gortConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/gortConfig.cmake INSTALL_DESTINATION ${GORT_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/gortConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gortConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/gortConfigVersion.cmake DESTINATION ${GORT_CMAKEDIR})

# gort.pc finds its prefix from its own place (${pcfiledir}), so that
# `cmake --install --prefix DIR` yields a working file for any DIR.
file(RELATIVE_PATH GORT_PC_TO_PREFIX /prefix/${GORT_PCDIR} /prefix)
string(REGEX REPLACE "/$" "" GORT_PC_TO_PREFIX "${GORT_PC_TO_PREFIX}")
string(REPLACE ";" " " GORT_PC_ENTRY "${GORT_ENTRY_FLAGS}")
configure_file(cmake/gort.pc.in ${CMAKE_CURRENT_BINARY_DIR}/gort.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gort.pc DESTINATION ${GORT_PCDIR})
