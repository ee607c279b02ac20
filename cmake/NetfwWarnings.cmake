# netfw_target_warnings(<target>): the project's warning set on one target.
set(NETFW_WARNING_FLAGS
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wundef -Wpointer-arith -Wvla
    -Wcast-align -Wwrite-strings -Wno-unused-parameter)

function(netfw_target_warnings target)
  target_compile_options(${target} PRIVATE ${NETFW_WARNING_FLAGS})
  if(NETFW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
