# The Debian package (`tools/package.sh`, or configure with
# -DRECONCILER_PACKAGE=ON -DCMAKE_INSTALL_PREFIX=/usr and run `cpack` in the
# build directory). On top of cmake/install.cmake's layout it adds:
#   /etc/stripe-reconciler/reconciler.yaml      the example config, a conffile
#   /usr/share/man/man1/reconciler.1.gz         generated from the CLI's own --help (help2man)
# and maintainer scripts (cmake/deb/) that daemon-reload but enable and start
# nothing. Library dependencies are computed by dpkg-shlibdeps.
#
# Include from the top-level CMakeLists.txt after cmake/install.cmake.

include_guard(GLOBAL)

option(RECONCILER_PACKAGE "Add the Debian package's files (conffile, man page) and CPack's DEB settings" OFF)
if(NOT RECONCILER_PACKAGE)
  return()
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "RECONCILER_PACKAGE needs -DCMAKE_INSTALL_PREFIX=/usr (the units name /usr/bin/reconciler)")
endif()

# reconciler(1): help2man reads `reconciler --help` and `--version`; the
# COMMANDS section is each command's --help (cmake/man_commands.sh).
find_program(HELP2MAN help2man REQUIRED)
find_program(GZIP gzip REQUIRED)
set(_man_dir "${PROJECT_BINARY_DIR}/man")
add_custom_command(
  OUTPUT "${_man_dir}/reconciler.1.gz"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_man_dir}"
  COMMAND sh "${PROJECT_SOURCE_DIR}/cmake/man_commands.sh" "$<TARGET_FILE:reconciler>" > "${_man_dir}/commands.h2m"
  COMMAND ${HELP2MAN} --no-info --section 1 --source stripe-reconciler
          --name "reconcile Stripe billing with the app database"
          --include "${_man_dir}/commands.h2m" --output "${_man_dir}/reconciler.1" "$<TARGET_FILE:reconciler>"
  # -n: no name or time stamp in the archive, so the package is reproducible.
  COMMAND ${GZIP} -9nf "${_man_dir}/reconciler.1"
  DEPENDS reconciler "${PROJECT_SOURCE_DIR}/cmake/man_commands.sh"
  COMMENT "Generating reconciler(1) from the CLI's help"
  VERBATIM)
add_custom_target(reconciler_man ALL DEPENDS "${_man_dir}/reconciler.1.gz")
install(FILES "${_man_dir}/reconciler.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")

install(FILES "${PROJECT_SOURCE_DIR}/config/reconciler.example.yaml"
        DESTINATION /etc/stripe-reconciler RENAME reconciler.yaml
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME stripe-reconciler)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "reconciles Stripe billing with a SaaS app's database")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the rest, one string.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Pages Stripe's events and invoices over HTTPS, diffs them against the app's
payments, credit events, usage and plan tiers, applies the safe corrections
exactly once, flags the rest, and writes a report and escalation records.
Runs from a systemd timer or as a daemon; the units are installed, not enabled.")
set(CPACK_PACKAGE_CONTACT "stripe-reconciler maintainers <billing-eng@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS systemd)
# The units hold absolute paths made from CMAKE_INSTALL_PREFIX at install
# time: stage with DESTDIR so that prefix stays /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/cmake/deb/conffiles"
    "${PROJECT_SOURCE_DIR}/cmake/deb/postinst"
    "${PROJECT_SOURCE_DIR}/cmake/deb/prerm"
    "${PROJECT_SOURCE_DIR}/cmake/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

unset(_man_dir)
