# netfw_add_protocol(<target> <schema.netproto>... [OUT_DIR <dir>] [CODEC_ONLY]
#                    [STATIC] [COMPAT_BASELINE <old.netproto>...])
#
# Runs netfw-gen on each schema and builds the generated C into a static
# library <target>, whose include directory (OUT_DIR, default
# ${CMAKE_CURRENT_BINARY_DIR}/<target>) is public and which links
# netfw::netfw (libnetfw.so), or with STATIC netfw::netfw_static
# (libnetfw.a: the programs need no libnetfw.so at run time).
# `schema/foo.netproto` becomes foo.netfw.h and foo.netfw.c.
# The code is regenerated when a schema or netfw-gen itself changes; a schema
# error fails the build (netfw-gen writes nothing then, so stale output is
# never used). CODEC_ONLY builds the types and encoders/decoders only
# (NETFW_GEN_CODEC_ONLY): no server/client glue.
#
# COMPAT_BASELINE names, for each schema in the same order, the version of
# it that deployed peers were built from (say a copy of the released file):
# before generating, the build runs `netfw-gen --check-compat <old> <schema>`
# and fails on a breaking change (a peer built from one could not talk to a
# peer built from the other: docs/compat.md), printing what breaks; warnings
# are printed and the build goes on. The check reruns when either file or
# netfw-gen changes, and until it passes (its stamp file,
# ${CMAKE_CURRENT_BINARY_DIR}/<target>_compat/<name>.stamp, is only written
# on success).
#
# Works inside the netfw tree (target netfw-gen) and from an installed
# package (imported target netfw::netfw-gen).
function(netfw_add_protocol target)
  cmake_parse_arguments(NP "CODEC_ONLY;STATIC" "OUT_DIR" "COMPAT_BASELINE"
                        ${ARGN})
  set(schemas ${NP_UNPARSED_ARGUMENTS})
  if(NOT schemas)
    message(FATAL_ERROR "netfw_add_protocol(${target}): no schema given")
  endif()
  list(LENGTH schemas nschemas)
  list(LENGTH NP_COMPAT_BASELINE nbaselines)
  if(nbaselines GREATER 0 AND NOT nbaselines EQUAL nschemas)
    message(FATAL_ERROR "netfw_add_protocol(${target}): COMPAT_BASELINE "
                        "needs one old schema per schema (${nschemas} "
                        "schemas, ${nbaselines} baselines)")
  endif()
  set(compat_dir "${CMAKE_CURRENT_BINARY_DIR}/${target}_compat")
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
  set(index 0)
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
    set(stamp)
    if(nbaselines GREATER 0)
      list(GET NP_COMPAT_BASELINE ${index} old)
      get_filename_component(old "${old}" ABSOLUTE
                             BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      set(stamp "${compat_dir}/${base}.stamp")
      file(MAKE_DIRECTORY "${compat_dir}")
      add_custom_command(
        OUTPUT "${stamp}"
        COMMAND ${gen} --check-compat "${old}" "${abs}"
        COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
        DEPENDS "${old}" "${abs}" ${gen}
        COMMENT "netfw-gen --check-compat ${base}.netproto"
        VERBATIM)
    endif()
    math(EXPR index "${index} + 1")
    add_custom_command(
      OUTPUT "${h}" "${c}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${NP_OUT_DIR}"
      COMMAND ${gen} -o "${NP_OUT_DIR}" "${abs}"
      DEPENDS "${abs}" ${gen} ${stamp}
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
