# Cross build for linux-arm64 (aarch64) with Debian's cross toolchain:
#   apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
# Used by ci/cross-arm64.sh through cmake/llama.cmake's TOOLCHAIN_FILE (part of the build key).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# BOTH: the shim finds llama.cpp's freshly built libraries by absolute path, outside the sysroot
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
