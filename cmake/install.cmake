# install.cmake: what `cmake --install` puts where, and the generated man pages and
# completions.
#   bin/esximg                                       the command (libesximg linked in)
#   lib/libesximg.so.0 (+ .so, .a), lib/pkgconfig/esximg.pc
#   include/esximg/*.h                               the public headers
#   share/man/man1/esximg.1, esximg-<command>.1
#   share/doc/esximg/copyright                       the licence
#   share/bash-completion/completions/esximg, share/zsh/vendor-completions/_esximg
include(GNUInstallDirs)
include(CheckCSourceCompiles)

option(ESXIMG_SHARED "also build libesximg as a shared library" ON)
option(ESXIMG_DOCS "generate the man pages and shell completions (needs python3)" ON)
if(ESXIMG_FUZZ)
  set(ESXIMG_SHARED OFF)
endif()

install(TARGETS esximg-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS esximg ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Debian's policy names the licence file share/doc/<package>/copyright
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/lib/include/esximg
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

if(ESXIMG_SHARED)
  add_library(esximg_shared SHARED $<TARGET_OBJECTS:esximg_objects>)
  target_include_directories(esximg_shared PUBLIC ${CMAKE_SOURCE_DIR}/lib/include)
  target_link_libraries(esximg_shared PRIVATE ${ESXIMG_DEPS})
  set_target_properties(esximg_shared PROPERTIES OUTPUT_NAME esximg
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
  # export esximg_* only where the linker takes a version script (GNU ld, lld, not Apple's)
  set(map ${CMAKE_SOURCE_DIR}/cmake/libesximg.map)
  set(CMAKE_REQUIRED_LINK_OPTIONS "-Wl,--version-script=${map}")
  check_c_source_compiles("int main(void) { return 0; }" ESXIMG_HAVE_VERSION_SCRIPT)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(ESXIMG_HAVE_VERSION_SCRIPT)
    target_link_options(esximg_shared PRIVATE "-Wl,--version-script=${map}")
    set_property(TARGET esximg_shared APPEND PROPERTY LINK_DEPENDS ${map})
  endif()
  install(TARGETS esximg_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

# esximg.pc: relocatable, the prefix is relative to the .pc file's folder
file(RELATIVE_PATH ESXIMG_PC_TO_PREFIX
  /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" ESXIMG_PC_TO_PREFIX "${ESXIMG_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/esximg.pc.in ${CMAKE_BINARY_DIR}/esximg.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/esximg.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Man pages and completions, from `esximg --help`, `esximg CMD --help` and docs/man/*.txt.
# They need the built command to run, so not when cross-compiling.
if(ESXIMG_DOCS AND CMAKE_CROSSCOMPILING)
  message(STATUS "esximg: cross-compiling, no man pages or completions")
  set(ESXIMG_DOCS OFF)
endif()
if(ESXIMG_DOCS)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  file(GLOB ESXIMG_MAN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.txt)
  set(stamp ${CMAKE_BINARY_DIR}/man/.stamp)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${CMAKE_BINARY_DIR}/man ${CMAKE_BINARY_DIR}/completions
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/docs/man/mkdocs.py
      --esximg $<TARGET_FILE:esximg-cli>
      --version ${PROJECT_VERSION} --src ${CMAKE_SOURCE_DIR}/docs/man
      --man ${CMAKE_BINARY_DIR}/man --completions ${CMAKE_BINARY_DIR}/completions
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS esximg-cli ${CMAKE_SOURCE_DIR}/docs/man/mkdocs.py ${ESXIMG_MAN_SOURCES}
    COMMENT "Generating the man pages and shell completions"
    VERBATIM)
  add_custom_target(esximg-docs ALL DEPENDS ${stamp})
  install(DIRECTORY ${CMAKE_BINARY_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
    FILES_MATCHING PATTERN "*.1")
  install(FILES ${CMAKE_BINARY_DIR}/completions/esximg
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  install(FILES ${CMAKE_BINARY_DIR}/completions/_esximg
    DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
endif()

include(${CMAKE_SOURCE_DIR}/cmake/packaging.cmake)
