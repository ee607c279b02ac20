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
netfw_require_pkg(MICROHTTPD libmicrohttpd libmicrohttpd-dev)
netfw_require_pkg(JANSSON jansson libjansson-dev)
find_package(Threads REQUIRED)

# libsystemd is optional: with it, socket activation and the watchdog go
# through sd_listen_fds / sd_watchdog_enabled (and sd_notify for
# NOTIFY_SOCKET addresses other than unix sockets); without it netfw reads
# LISTEN_FDS and WATCHDOG_USEC itself (the same protocol, docs/deploy.md).
# netfw always sends READY=1 etc. itself to a unix NOTIFY_SOCKET, without
# waiting. NETFW_SYSTEMD: AUTO (use it when found), ON (require it), OFF.
set(NETFW_SYSTEMD AUTO CACHE STRING
    "Use libsystemd for socket activation and sd_notify: AUTO, ON or OFF")
set_property(CACHE NETFW_SYSTEMD PROPERTY STRINGS AUTO ON OFF)
set(NETFW_WITH_LIBSYSTEMD OFF)
if(NOT NETFW_SYSTEMD STREQUAL "OFF")
  pkg_check_modules(SYSTEMD QUIET IMPORTED_TARGET GLOBAL libsystemd)
  if(SYSTEMD_FOUND)
    set(NETFW_WITH_LIBSYSTEMD ON)
    message(STATUS "Found libsystemd ${SYSTEMD_VERSION}: socket activation "
                   "and the watchdog through it")
  elseif(NETFW_SYSTEMD STREQUAL "ON")
    message(FATAL_ERROR "libsystemd not found (NETFW_SYSTEMD=ON): install "
                        "the Debian package 'libsystemd-dev' (apt-get install "
                        "libsystemd-dev) or configure with -DNETFW_SYSTEMD=AUTO")
  endif()
endif()
if(NOT NETFW_WITH_LIBSYSTEMD)
  message(STATUS "libsystemd not used (optional, Debian package "
                 "'libsystemd-dev'): netfw reads LISTEN_FDS and "
                 "WATCHDOG_USEC itself")
endif()

if(NETFW_BUILD_TESTS)
  netfw_require_pkg(CMOCKA cmocka libcmocka-dev)
endif()

find_program(RE2C_EXECUTABLE re2c)
if(NOT RE2C_EXECUTABLE)
  message(FATAL_ERROR "re2c not found: install the Debian package 're2c' "
                      "(apt-get install re2c)")
endif()
