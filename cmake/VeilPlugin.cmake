# veil_add_plugin(NAME SOURCES ... [LIBS ...] [OUTPUT_DIR dir] [NO_INSTALL])
# veil_add_plugin_test(NAME SOURCES ...)   (below: a plugin's own Catch2 test)
# Builds one Veil plugin, target veil_plugin_<NAME> (dashes kept in NAME, e.g. exif-strip).
#  - Default: a MODULE library veil-plugin-<NAME>.so in ${CMAKE_BINARY_DIR}/lib/veil/plugins
#    (OUTPUT_DIR overrides), installed to <prefix>/lib/veil/plugins with a RUNPATH that finds
#    the SDK libraries in <prefix>/lib. The kernel finds it relative to its own executable
#    (../lib/veil/plugins).
#  - If NAME is listed in VEIL_STATIC_PLUGINS (in-tree only): a STATIC library compiled with
#    VEIL_PLUGIN_STATIC, linked into the veil executable by kernel/CMakeLists.txt.
# The plugin source exports itself with VEIL_PLUGIN(id, info, Class) from veil/sdk/plugin.hpp.
# Works in-tree and from an installed SDK (find_package(VeilSDK) includes this file).
function(veil_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  set(target veil_plugin_${name})
  if(TARGET veil_sdk)
    set(sdk veil_sdk)
  else()
    set(sdk VeilSDK::sdk)
  endif()
  if(DEFINED VEIL_STATIC_PLUGINS AND name IN_LIST VEIL_STATIC_PLUGINS)
    add_library(${target} STATIC ${P_SOURCES})
    target_compile_definitions(${target} PRIVATE VEIL_PLUGIN_STATIC)
  else()
    add_library(${target} MODULE ${P_SOURCES})
    if(NOT P_OUTPUT_DIR)
      set(P_OUTPUT_DIR ${CMAKE_BINARY_DIR}/lib/veil/plugins)
    endif()
    # Installed to LIBDIR/veil/plugins: $ORIGIN/../.. is LIBDIR, where the SDK libraries are
    # when plugin and SDK share a prefix; an SDK installed elsewhere is found by its absolute
    # path (INSTALL_RPATH_USE_LINK_PATH).
    set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME veil-plugin-${name}
      LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
      INSTALL_RPATH "$ORIGIN/../.." INSTALL_RPATH_USE_LINK_PATH ON)
    if(NOT P_NO_INSTALL)
      include(GNUInstallDirs)
      install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/veil/plugins
              COMPONENT plugins)
    endif()
  endif()
  set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE ${sdk} ${P_LIBS})
  if(TARGET veil_warnings)
    target_link_libraries(${target} PRIVATE veil_warnings)
  endif()
endfunction()

# veil_add_plugin_test(NAME SOURCES ...)
# A plugin's own test: executable NAME from SOURCES (the test and the plugin's sources, compiled
# in with VEIL_PLUGIN_STATIC, so veil_static_plugin_<id>() is its descriptor), linked against the
# SDK's harness (VeilSDK::testing) and Catch2 2.x, registered with ctest as NAME.
function(veil_add_plugin_test name)
  cmake_parse_arguments(T "" "" "SOURCES" ${ARGN})
  find_package(Catch2 2 REQUIRED)
  enable_testing()
  add_executable(${name} ${T_SOURCES})
  target_compile_definitions(${name} PRIVATE VEIL_PLUGIN_STATIC)
  target_link_libraries(${name} PRIVATE VeilSDK::testing Catch2::Catch2)
  add_test(NAME ${name} COMMAND ${name})
endfunction()
