# Packaging: a .deb and a .tar.gz (cpack -G DEB / -G TGZ from the build folder).
set(CPACK_PACKAGE_NAME "awq-studio")
set(CPACK_PACKAGE_VENDOR "AWQ Studio")
set(CPACK_PACKAGE_CONTACT "AWQ Studio developers <awq-studio@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libtorch1.13, libopenblas0-pthread, libsentencepiece0, libqt6widgets6, libqt6charts6, libqt6gui6, libqt6core6")
include(CPack)
