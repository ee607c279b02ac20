# Installation: headers, libnetfw (static and shared), netfw-gen, the CMake
# package (find_package(netfw) -> netfw::netfw, netfw::netfw_static,
# netfw::netfw-gen, netfw_add_protocol()) and a pkg-config file.
include(CMakePackageConfigHelpers)

set(NETFW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/netfw)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/netfw
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS netfw netfw_shared netfw-gen
        EXPORT netfwTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT netfwTargets
        NAMESPACE netfw::
        DESTINATION ${NETFW_CMAKE_DIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/netfwConfig.cmake.in
  ${PROJECT_BINARY_DIR}/netfwConfig.cmake
  INSTALL_DESTINATION ${NETFW_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR) # NETFW_LIBRARY_DIR, relocatable
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/netfwConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/netfwConfig.cmake
              ${PROJECT_BINARY_DIR}/netfwConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/NetfwProtocol.cmake
        DESTINATION ${NETFW_CMAKE_DIR})

# The .pc file finds its prefix from where it is installed (${pcfiledir}),
# so `cmake --install build --prefix P` works for any P.
file(RELATIVE_PATH NETFW_PC_TO_PREFIX
     /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
# libsystemd is there only when this build used it (optional).
set(NETFW_PC_SYSTEMD "")
if(NETFW_WITH_LIBSYSTEMD)
  set(NETFW_PC_SYSTEMD " libsystemd")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/netfw.pc.in
               ${PROJECT_BINARY_DIR}/netfw.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/netfw.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
