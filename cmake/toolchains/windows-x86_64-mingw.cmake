# Cross build for windows-x86_64 with MinGW-w64 (POSIX threads variant, for std::thread/std::mutex):
#   apt-get install g++-mingw-w64-x86-64-posix
# Used by ci/cross-windows.sh through cmake/llama.cmake's TOOLCHAIN_FILE (part of the build key).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# The MinGW runtime DLLs (libstdc++-6, libgcc_s_seh-1, libwinpthread-1) go beside llama.cpp's DLLs:
# linking them statically into every DLL exports libgcc's unwinder from each (multiple definitions).
