# packaging.cmake: `cpack -G DEB` in the build folder makes esximg_<version>_<arch>.deb.
# Configure with -DCMAKE_INSTALL_PREFIX=/usr so that the library lands in the multiarch folder
# (packaging/check-deb.sh installs the result on a fresh Debian 12 and runs it).
set(CPACK_PACKAGE_NAME esximg)
set(CPACK_PACKAGE_VENDOR "esximg developers")
set(CPACK_PACKAGE_CONTACT "esximg developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "build and inspect VMware ESXi installer images")
set(CPACK_PACKAGE_DESCRIPTION
  "esximg adds community drivers (OEM .tgz, VIB, offline bundle) to an ESXi installer ISO that
still boots on BIOS and UEFI, tells before an install whether a host's NICs and disk
controllers will be driven, and reads and writes VIBs, offline bundles and vmtar payloads.
This package holds the esximg command, libesximg with its headers and pkg-config file, the
man pages and the bash and zsh completions.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "esximg developers")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# the library dependencies (libarchive13, libxml2, libssl3, zlib1g, libisofs6, libjansson4,
# libc6) are found by dpkg-shlibdeps from the installed binary and library
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# esximg usb and edit --hybrid read the isohybrid MBR template from the isolinux package
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "isolinux")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, man-db")
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/;/build[^/]*/;/fuzz/out/;__pycache__")
include(CPack)
