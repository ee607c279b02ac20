# Finds what netfw builds on. A missing piece stops configure with the name
# of the Debian package that provides it (`make deps` installs them all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package "
                      "'pkg-config' (apt-get install pkg-config)")
endif()

function(netfw_require_pkg prefix module debian_package)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found: install the Debian package "
                        "'${debian_package}' (apt-get install ${debian_package})")
  endif()
  message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

netfw_require_pkg(LIBUV libuv libuv1-dev)
netfw_require_pkg(HIREDIS hiredis libhiredis-dev)
netfw_require_pkg(OPENSSL openssl libssl-dev)
find_package(Threads REQUIRED)

if(NETFW_BUILD_TESTS)
  netfw_require_pkg(CMOCKA cmocka libcmocka-dev)
endif()

find_program(RE2C_EXECUTABLE re2c)
if(NOT RE2C_EXECUTABLE)
  message(FATAL_ERROR "re2c not found: install the Debian package 're2c' "
                      "(apt-get install re2c)")
endif()
