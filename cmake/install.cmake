# Install layout (`cmake --install BUILD [--prefix P]`; default prefix /usr/local):
#   bin/reconciler                                  (install(TARGETS) in reconciler/cli/CMakeLists.txt)
#   lib/systemd/system/reconciler.service           one run, Type=oneshot
#   lib/systemd/system/reconciler.timer             nightly trigger
#   lib/systemd/system/reconciler-daemon.service    daemon mode (alternative to the timer)
#   lib/systemd/system/reconciler-alert@.service    OnFailure= hook of both services (logs at crit; sites replace ExecStart=)
#   share/doc/stripe-reconciler/README.md
#   share/doc/stripe-reconciler/reconciler.example.yaml
#   share/doc/stripe-reconciler/reconciler-database.conf.example   (drop-in: database outside the state dir)
#   share/doc/stripe-reconciler/sql/{app,migrations}/*.sql
#
# The units name the installed binary by its absolute path, so they are
# generated from systemd/*.in with the prefix substituted: at configure time
# into BUILD/systemd (what tests/systemd verifies) and again at install time
# into BUILD/systemd-install with the prefix actually installed to, so that
# `cmake --install BUILD --prefix /usr` yields units that run /usr/bin/reconciler.
# (DESTDIR is not part of the paths in the units, as it should be.)
# /usr/local/lib/systemd/system is on systemd's unit search path; the
# configuration lives in /etc/stripe-reconciler whatever the prefix.
#
# Include from the top-level CMakeLists.txt after project() and before
# add_subdirectory(tests): tests/systemd verifies the generated units and reads
# RECONCILER_SYSTEMD_UNIT_DIR.

include_guard(GLOBAL)
include(GNUInstallDirs)

# Relative to the prefix (not CMAKE_INSTALL_LIBDIR: that is multiarch on Debian
# with prefix /usr, and systemd looks in lib/systemd/system only).
set(RECONCILER_INSTALL_SYSTEMDUNITDIR "lib/systemd/system" CACHE STRING
    "systemd system unit directory, relative to CMAKE_INSTALL_PREFIX (or absolute)")
# Not CMAKE_INSTALL_DOCDIR: GNUInstallDirs derives that from the project name
# (share/doc/stripe_reconciler).
set(RECONCILER_INSTALL_DOCDIR "${CMAKE_INSTALL_DATADIR}/doc/stripe-reconciler" CACHE STRING
    "Documentation directory, relative to CMAKE_INSTALL_PREFIX (or absolute)")

set(RECONCILER_SYSTEMD_UNITS reconciler.service reconciler.timer reconciler-daemon.service reconciler-alert@.service
    CACHE INTERNAL "The systemd units generated from systemd/*.in")

# reconciler_configure_units(SRC_DIR OUT_DIR PREFIX BINDIR DOCDIR UNITS): SRC_DIR/<unit>.in -> OUT_DIR/<unit>
# with @RECONCILER_INSTALL_FULL_BINDIR@ and @RECONCILER_INSTALL_FULL_DOCDIR@
# substituted. Also runs at install time (below), hence a plain-CMake body.
set(_reconciler_configure_units [=[
function(reconciler_configure_units src_dir out_dir prefix bindir docdir units)
  foreach(d IN ITEMS BINDIR DOCDIR)
    string(TOLOWER "${d}" v)
    if(IS_ABSOLUTE "${${v}}")
      set(RECONCILER_INSTALL_FULL_${d} "${${v}}")
    else()
      set(RECONCILER_INSTALL_FULL_${d} "${prefix}/${${v}}")
    endif()
  endforeach()
  foreach(unit IN LISTS units)
    configure_file("${src_dir}/${unit}.in" "${out_dir}/${unit}" @ONLY)
  endforeach()
endfunction()
]=])
cmake_language(EVAL CODE "${_reconciler_configure_units}")

set(RECONCILER_SYSTEMD_UNIT_DIR "${PROJECT_BINARY_DIR}/systemd" CACHE INTERNAL
    "Units generated at configure time (verified by tests/systemd)")
reconciler_configure_units("${PROJECT_SOURCE_DIR}/systemd" "${RECONCILER_SYSTEMD_UNIT_DIR}"
  "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_BINDIR}" "${RECONCILER_INSTALL_DOCDIR}" "${RECONCILER_SYSTEMD_UNITS}")

# At install time: the same with the install-time CMAKE_INSTALL_PREFIX.
set(_install_units_dir "${PROJECT_BINARY_DIR}/systemd-install")
install(CODE "${_reconciler_configure_units}
reconciler_configure_units([[${PROJECT_SOURCE_DIR}/systemd]] [[${_install_units_dir}]]
  \"\${CMAKE_INSTALL_PREFIX}\" [[${CMAKE_INSTALL_BINDIR}]] [[${RECONCILER_INSTALL_DOCDIR}]]
  [[${RECONCILER_SYSTEMD_UNITS}]])")
list(TRANSFORM RECONCILER_SYSTEMD_UNITS PREPEND "${_install_units_dir}/" OUTPUT_VARIABLE _generated)
install(FILES ${_generated}
        DESTINATION "${RECONCILER_INSTALL_SYSTEMDUNITDIR}"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

install(FILES
          "${PROJECT_SOURCE_DIR}/README.md"
          "${PROJECT_SOURCE_DIR}/config/reconciler.example.yaml"
          "${PROJECT_SOURCE_DIR}/systemd/reconciler-database.conf.example"
        DESTINATION "${RECONCILER_INSTALL_DOCDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/sql/"
        DESTINATION "${RECONCILER_INSTALL_DOCDIR}/sql"
        FILES_MATCHING PATTERN "*.sql")

unset(_reconciler_configure_units)
unset(_install_units_dir)
unset(_generated)
