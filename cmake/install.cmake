# Installs libtailcut as a CMake package: find_package(tailcut) then link
# tailcut::tailcut.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS tailcut tailcut_warnings EXPORT tailcutTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/tailcut DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS tailcut_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT tailcutTargets NAMESPACE tailcut::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tailcut)
configure_package_config_file(cmake/tailcutConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tailcutConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tailcut)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tailcutConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tailcutConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/tailcutConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tailcut)
