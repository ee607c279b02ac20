# netfw_add_protocol(<target> <schema.netproto>... [OUT_DIR <dir>] [CODEC_ONLY]
#                    [STATIC])
#
# Runs netfw-gen on each schema and builds the generated C into a static
# library <target>, whose include directory (OUT_DIR, default
# ${CMAKE_CURRENT_BINARY_DIR}/<target>) is public and which links
# netfw::netfw (libnetfw.so), or with STATIC netfw::netfw_static
# (libnetfw.a: the programs need no libnetfw.so at run time). `schema/foo.netproto` becomes foo.netfw.h and foo.netfw.c.
# The code is regenerated when a schema or netfw-gen itself changes; a schema
# error fails the build (netfw-gen writes nothing then, so stale output is
# never used). CODEC_ONLY builds the types and encoders/decoders only
# (NETFW_GEN_CODEC_ONLY): no server/client glue.
#
# Works inside the netfw tree (target netfw-gen) and from an installed
# package (imported target netfw::netfw-gen).
function(netfw_add_protocol target)
  cmake_parse_arguments(NP "CODEC_ONLY;STATIC" "OUT_DIR" "" ${ARGN})
  set(schemas ${NP_UNPARSED_ARGUMENTS})
  if(NOT schemas)
    message(FATAL_ERROR "netfw_add_protocol(${target}): no schema given")
  endif()
  if(NOT NP_OUT_DIR)
    set(NP_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/${target})
  endif()
  get_filename_component(NP_OUT_DIR "${NP_OUT_DIR}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

  if(TARGET netfw::netfw-gen)
    get_target_property(gen netfw::netfw-gen ALIASED_TARGET)
    if(NOT gen)
      set(gen netfw::netfw-gen)
    endif()
  elseif(TARGET netfw-gen)
    set(gen netfw-gen)
  else()
    message(FATAL_ERROR "netfw_add_protocol(${target}): netfw-gen not found "
                        "(build it in this tree or find_package(netfw))")
  endif()

  file(MAKE_DIRECTORY "${NP_OUT_DIR}")
  set(sources)
  set(bases)
  foreach(schema IN LISTS schemas)
    get_filename_component(abs "${schema}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(base "${abs}" NAME_WLE)
    if(base IN_LIST bases)
      message(FATAL_ERROR "netfw_add_protocol(${target}): two schemas named "
                          "${base}.netproto would generate the same files; "
                          "use one target (or OUT_DIR) per schema")
    endif()
    list(APPEND bases "${base}")
    set(h "${NP_OUT_DIR}/${base}.netfw.h")
    set(c "${NP_OUT_DIR}/${base}.netfw.c")
    add_custom_command(
      OUTPUT "${h}" "${c}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${NP_OUT_DIR}"
      COMMAND ${gen} -o "${NP_OUT_DIR}" "${abs}"
      DEPENDS "${abs}" ${gen}
      COMMENT "netfw-gen ${base}.netproto"
      VERBATIM)
    list(APPEND sources "${c}" "${h}")
  endforeach()

  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${NP_OUT_DIR}>)
  # In the netfw tree netfw::netfw is the static library already.
  if(NP_STATIC AND TARGET netfw::netfw_static)
    target_link_libraries(${target} PUBLIC netfw::netfw_static)
  else()
    target_link_libraries(${target} PUBLIC netfw::netfw)
  endif()
  set_target_properties(${target} PROPERTIES C_STANDARD 11
                                             C_STANDARD_REQUIRED ON)
  if(NP_CODEC_ONLY)
    target_compile_definitions(${target} PUBLIC NETFW_GEN_CODEC_ONLY)
  endif()
endfunction()
