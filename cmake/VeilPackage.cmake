# The operator's package (docs/operating.md): `cpack -G DEB` in a build configured with
# `cmake --preset release` makes veil_<version>_<arch>.deb with the executable, the SDK libraries,
# the plugins, the man page, example configs and, with VEIL_PACKAGE (on in that preset only, as
# they install outside the prefix), /etc/veil/*.toml and the systemd units of a service node, a
# directory authority and a client daemon. scripts/deb-test.sh builds, installs, runs and
# removes it.
option(VEIL_PACKAGE "Install /etc/veil and the systemd units too (the release preset, for cpack)" OFF)
include(GNUInstallDirs)
set(_pkg ${PROJECT_SOURCE_DIR}/packaging)

install(FILES ${_pkg}/veil.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        COMPONENT runtime FILES_MATCHING PATTERN "*.toml")
install(FILES ${PROJECT_SOURCE_DIR}/docs/operating.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT runtime)
if(VEIL_PACKAGE)
  install(FILES ${PROJECT_SOURCE_DIR}/configs/node.toml ${PROJECT_SOURCE_DIR}/configs/directory.toml
          DESTINATION /etc/veil COMPONENT runtime)
  install(FILES ${_pkg}/systemd/veil-node.service ${_pkg}/systemd/veil-directory.service
                ${_pkg}/systemd/veil-client.service
          DESTINATION /lib/systemd/system COMPONENT runtime)
endif()

set(CPACK_PACKAGE_NAME veil)
set(CPACK_PACKAGE_VENDOR "Veil")
set(CPACK_PACKAGE_CONTACT "Veil developers <veil@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "private messenger, service node and directory authority")
set(CPACK_PACKAGE_DESCRIPTION "One executable, veil, whose plugins make it a client, a service node or
a directory authority; systemd units for each run as its own user (veil-node, veil-directory, veil-client) with state in /var/lib/veil/ROLE.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # veil_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)             # Depends: from the libraries the ELF files use
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/lib)
# adduser for postinst; the web plugin's libuv loop is a plugin libwebsockets loads at run time.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libwebsockets-evlib-uv")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_pkg}/debian/postinst ${_pkg}/debian/prerm
    ${_pkg}/debian/postrm ${_pkg}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
