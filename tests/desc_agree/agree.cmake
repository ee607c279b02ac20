# netfw_agree_switch(<out.c> <schema> <generated header>)
# writes <out.c>: the `agree_<proto>` table of tests/desc_agree/agree.h for
# a schema (a switch over its messages calling the generated codec, and the
# fuzz harness's order of types), from `netfw-gen --descriptor` and
# `--fuzz-harness` (agree_switch.cmake). <generated header> is the absolute
# path of the schema's .netfw.h (netfw_add_protocol's OUT_DIR).
set(NETFW_AGREE_DIR ${CMAKE_CURRENT_LIST_DIR})
function(netfw_agree_switch out schema header)
  set(work ${out}.d)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${work}
    COMMAND netfw-gen -o ${work} --fuzz-harness ${work}/harness.c
            --descriptor ${work}/descriptor.json ${schema}
    COMMAND ${CMAKE_COMMAND} -DDESC=${work}/descriptor.json
            -DHARNESS=${work}/harness.c -DHEADER=${header} -DOUT=${out}
            -P ${NETFW_AGREE_DIR}/agree_switch.cmake
    DEPENDS ${schema} netfw-gen ${NETFW_AGREE_DIR}/agree_switch.cmake
    COMMENT "agree_switch ${schema}"
    VERBATIM)
endfunction()
