# The link graph that the dependency guard (tests/unit/architecture) checks: units meet only
# through the SDK, so a unit's target may link no other unit's target and may not put another
# unit (or plugins/ as a whole) on an include path. Once every folder is added, configure writes
# ${VEIL_LINK_GRAPH_FILE}, one tab-separated line per fact, absolute paths:
#   link         TARGET  TARGET_SOURCE_DIR  LINKED_TARGET  LINKED_TARGET_SOURCE_DIR
#   include_dir  TARGET  TARGET_SOURCE_DIR  DIRECTORY
# Only links to CMake targets built here are listed (not imported ones such as PkgConfig::*).
set(VEIL_LINK_GRAPH_FILE ${CMAKE_BINARY_DIR}/veil_link_graph.txt)

# Every target defined in `dir` and the folders below it.
function(_veil_targets_below dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _veil_targets_below(${sub} below)
    list(APPEND targets ${below})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# The built target a link item names (aliases resolved), or "" for anything else.
function(_veil_linked_target item out)
  # $<LINK_ONLY:x> (a static library's private link) and $<$<CONFIG:...>:x> still link x.
  if(item MATCHES "^\\$<LINK_ONLY:(.+)>$")
    set(item "${CMAKE_MATCH_1}")
  elseif(item MATCHES "^\\$<.*:([^:<>]+)>$")
    set(item "${CMAKE_MATCH_1}")
  endif()
  set(name "")
  if(TARGET "${item}")
    get_target_property(aliased ${item} ALIASED_TARGET)
    if(aliased)
      set(item ${aliased})
    endif()
    get_target_property(imported ${item} IMPORTED)
    if(NOT imported)
      set(name ${item})
    endif()
  endif()
  set(${out} "${name}" PARENT_SCOPE)
endfunction()

# The value of a target property as a list ("" when unset).
function(_veil_target_list target property out)
  get_target_property(value ${target} ${property})
  if(NOT value)
    set(value "")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

function(veil_write_link_graph)
  _veil_targets_below(${CMAKE_SOURCE_DIR} targets)
  set(text "# Written by cmake/VeilLinkGraph.cmake at configure time; read by veil_dependency_guard_test.\n")
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(dir ${target} SOURCE_DIR)

    _veil_target_list(${target} LINK_LIBRARIES links)
    _veil_target_list(${target} INTERFACE_LINK_LIBRARIES interface_links)
    set(linked "")
    foreach(item IN LISTS links interface_links)
      _veil_linked_target("${item}" name)
      if(name)
        list(APPEND linked ${name})
      endif()
    endforeach()
    list(REMOVE_DUPLICATES linked)
    foreach(name IN LISTS linked)
      get_target_property(linked_dir ${name} SOURCE_DIR)
      string(APPEND text "link\t${target}\t${dir}\t${name}\t${linked_dir}\n")
    endforeach()

    _veil_target_list(${target} INCLUDE_DIRECTORIES includes)
    _veil_target_list(${target} INTERFACE_INCLUDE_DIRECTORIES interface_includes)
    set(paths "")
    foreach(path IN LISTS includes interface_includes)
      if(path MATCHES "^\\$<BUILD_INTERFACE:(.+)>$")
        set(path "${CMAKE_MATCH_1}")
      elseif(path MATCHES "\\$<")
        continue()  # $<INSTALL_INTERFACE:...> and the like: not a path in this tree
      endif()
      list(APPEND paths ${path})
    endforeach()
    list(REMOVE_DUPLICATES paths)
    foreach(path IN LISTS paths)
      string(APPEND text "include_dir\t${target}\t${dir}\t${path}\n")
    endforeach()
  endforeach()
  file(WRITE ${VEIL_LINK_GRAPH_FILE} "${text}")
endfunction()

# Deferred to the end of the top-level CMakeLists.txt, when every target exists.
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL veil_write_link_graph)
