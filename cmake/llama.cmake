# Obtains the pinned llama.cpp source and builds it for one backend.
#
# Run as a script (Maven's native/ module does this):
#   cmake -DBACKEND=cpu -DOUT_DIR=/path/to/out -P cmake/llama.cmake
#
# Inputs (all optional except OUT_DIR):
#   BACKEND           cpu (default) | cuda | metal | vulkan (linux-x86_64: the cpu build, plus llama.cpp's Vulkan
#                     backend prebuilt for the same release, loaded at run time; cmake/prebuilt-backends.cmake)
#                     | gpu (linux-x86_64: the vulkan build plus the prebuilt CUDA backend: ggml picks CUDA,
#                     Vulkan or the CPU at run time; the cuda build carries the prebuilt Vulkan backend too).
#                     vulkan elsewhere (Windows, macOS, another CPU, LLAMA_CPP_DIR), or with VULKAN_FROM_SOURCE=ON:
#                     built from source with GGML_VULKAN, loaded at run time beside the CPU variants; needs
#                     the Vulkan SDK (headers, loader, glslc) newer than Debian 12's (docs/gpu.md)
#   LLAMA_CPP_DIR     use this local llama.cpp checkout instead of the pinned source
#   CACHE_DIR         where sources and builds are cached (default: ~/.cache/llama-java)
#   CPU_ALL_VARIANTS  ON: distributable CPU build (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS)
#   CUDA_ARCHS        CUDA architecture list, e.g. "75;80;86;89;90;120" or "native"
#   CUDA_WITH_VULKAN  ON (default) | OFF: whether the cuda build carries the prebuilt Vulkan backend (npm, once)
#   VULKAN_FROM_SOURCE OFF (default) | ON: BACKEND=vulkan built from source even where the prebuilt serves
#   BUILD_TYPE        Release (default) | RelWithDebInfo | Debug
#   SANITIZE          "" (default) | address
#   JOBS              parallel build jobs (default: number of processors)
#   EXTRA_ARGS        extra -D arguments for llama.cpp's configure, separated by ';'
#   SHIM_DIR          CMake project of llama-java's native shim (default: native/src/main/cpp)
#   TOOLCHAIN_FILE    a CMake toolchain file for a cross build (e.g. cmake/toolchains/linux-arm64.cmake);
#                     it is part of the build key, so a cross build never shares the host build's folder
#   SHIM_TOOLS        ON (default) | OFF: also build the shim's oracle tools (tests only)
#   SHIM_OPTIONAL     ON: a shim that fails to build is left out instead of failing (MinGW)
#   PRINT_KEY         ON: print the build key (BACKEND-HASH) and do nothing else
#   TARGETS           llama.cpp targets to build (';'-separated; default: the libraries and every tool the
#                     tests use); release and cross builds that need no oracle tools name fewer
#
# Output: OUT_DIR/{include,lib,bin} (llama.cpp, plus the shim libllamajava and its oracle tools) and OUT_DIR/llama-build.properties, which names the
# source tree (for llama.cpp's test data), the build key and the options used.
cmake_minimum_required(VERSION 3.20)

include("${CMAKE_CURRENT_LIST_DIR}/pinned-source.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/prebuilt-backends.cmake")

if(NOT OUT_DIR)
  message(FATAL_ERROR "OUT_DIR is required: -DOUT_DIR=/path")
endif()
if(NOT BACKEND)
  set(BACKEND cpu)
endif()
if(NOT BACKEND MATCHES "^(cpu|cuda|metal|vulkan|gpu)$")
  message(FATAL_ERROR "BACKEND must be cpu, cuda, metal, vulkan or gpu, not '${BACKEND}'")
endif()
# The Vulkan and gpu builds are the CPU build (the same build key and cached build: nothing of llama.cpp
# is compiled again) with prebuilt backends added as dynamic backends in step 5: Vulkan, and for gpu
# CUDA too. The cuda build (CUDA compiled here) carries the prebuilt Vulkan backend where it can.
set(VULKAN_PREBUILT OFF)
set(CUDA_PREBUILT OFF)
set(BACKEND_NAME "${BACKEND}")
cmake_host_system_information(RESULT _os QUERY OS_NAME)
cmake_host_system_information(RESULT _arch QUERY OS_PLATFORM)
set(_prebuilt_ok OFF)
if(NOT LLAMA_CPP_DIR AND NOT TOOLCHAIN_FILE AND _os STREQUAL "Linux" AND _arch MATCHES "^(x86_64|AMD64|amd64)$")
  set(_prebuilt_ok ON)
endif()
set(VULKAN_SOURCE OFF)
if(BACKEND STREQUAL "vulkan" AND (NOT _prebuilt_ok OR VULKAN_FROM_SOURCE))
  # no prebuilt of the pinned release for this host (node-llama-cpp published Linux x86-64 only): ggml's
  # Vulkan backend from source, a dynamic backend beside the CPU variants, as the cuda build
  set(VULKAN_SOURCE ON)
elseif(BACKEND STREQUAL "vulkan" OR BACKEND STREQUAL "gpu")
  if(NOT _prebuilt_ok)
    message(FATAL_ERROR "BACKEND=${BACKEND} takes llama.cpp's GPU backends prebuilt for the pinned release "
                        "(linux-x86_64 only), so it needs the pinned source and a Linux x86-64 host, without "
                        "LLAMA_CPP_DIR or TOOLCHAIN_FILE")
  endif()
  set(VULKAN_PREBUILT ON)
  if(BACKEND STREQUAL "gpu")
    set(CUDA_PREBUILT ON)
  endif()
  set(BACKEND cpu)
elseif(BACKEND STREQUAL "cuda" AND _prebuilt_ok AND (NOT DEFINED CUDA_WITH_VULKAN OR CUDA_WITH_VULKAN))
  set(VULKAN_PREBUILT ON)
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
if(NOT CACHE_DIR)
  if(DEFINED ENV{LLAMA_JAVA_CACHE})
    set(CACHE_DIR "$ENV{LLAMA_JAVA_CACHE}")
  else()
    set(CACHE_DIR "$ENV{HOME}/.cache/llama-java")
  endif()
endif()
if(NOT CUDA_ARCHS)
  set(CUDA_ARCHS "75;80;86;89;90;120")
endif()
if(NOT JOBS OR JOBS EQUAL 0)
  cmake_host_system_information(RESULT JOBS QUERY NUMBER_OF_LOGICAL_CORES)
endif()

# ---- 1. source ---------------------------------------------------------------
if(LLAMA_CPP_DIR)
  get_filename_component(SRC "${LLAMA_CPP_DIR}" ABSOLUTE)
  if(NOT EXISTS "${SRC}/include/llama.h")
    message(FATAL_ERROR "LLAMA_CPP_DIR=${SRC} is not a llama.cpp checkout (no include/llama.h)")
  endif()
  execute_process(COMMAND git -C "${SRC}" rev-parse HEAD OUTPUT_VARIABLE _head
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  set(SOURCE_ID "local:${SRC}:${_head}")
  llama_apply_patches("${SRC}" OFF)
else()
  llama_pinned_source("${CACHE_DIR}" SRC)
  llama_apply_patches("${SRC}" ON)
  llama_patches_id(_patches)
  set(SOURCE_ID "${LLAMA_PIN_VERSION}:${LLAMA_PIN_SHA256}${_patches}")
endif()

# ---- 2. build key --------------------------------------------------------------
set(OPTS
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
  -DBUILD_SHARED_LIBS=ON
  -DLLAMA_BUILD_COMMON=ON
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=ON
  -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=OFF
  -DLLAMA_BUILD_APP=OFF
  -DLLAMA_OPENSSL=OFF
  -DGGML_OPENMP=OFF
  -DGGML_RPC=ON
  -DCMAKE_PLATFORM_NO_VERSIONED_SONAME=ON)
# GPU builds load their backends at run time (GGML_BACKEND_DL), so that a machine without the GPU
# or its driver still runs on the CPU backend with the same jar; ggml allows that only with the
# CPU variants (GGML_NATIVE is incompatible with GGML_BACKEND_DL).
if(BACKEND STREQUAL "cuda" OR VULKAN_SOURCE)
  set(CPU_ALL_VARIANTS ON)
endif()
if(CPU_ALL_VARIANTS)
  list(APPEND OPTS -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_NATIVE=OFF)
else()
  list(APPEND OPTS -DGGML_NATIVE=ON)
endif()
set(BACKEND_DL ${CPU_ALL_VARIANTS})
if(BACKEND STREQUAL "cuda")
  list(APPEND OPTS -DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS}")
elseif(BACKEND STREQUAL "metal")
  list(APPEND OPTS -DGGML_METAL=ON -DGGML_METAL_EMBED_LIBRARY=ON)
elseif(VULKAN_SOURCE)
  list(APPEND OPTS -DGGML_VULKAN=ON)
endif()
if(SANITIZE STREQUAL "address")
  list(APPEND OPTS -DLLAMA_SANITIZE_ADDRESS=ON -DGGML_SANITIZE_ADDRESS=ON)
endif()
if(EXTRA_ARGS)
  list(APPEND OPTS ${EXTRA_ARGS})
endif()
set(SHIM_OPTS "")
set(KEY_EXTRA "")
if(TOOLCHAIN_FILE)
  get_filename_component(TOOLCHAIN_FILE "${TOOLCHAIN_FILE}" ABSOLUTE)
  if(NOT EXISTS "${TOOLCHAIN_FILE}")
    message(FATAL_ERROR "TOOLCHAIN_FILE=${TOOLCHAIN_FILE} does not exist")
  endif()
  # the file's content, not its path, is part of the key: every checkout's copy shares one build
  file(SHA256 "${TOOLCHAIN_FILE}" _tc_hash)
  set(KEY_EXTRA "|toolchain:${_tc_hash}")
  # ... so the build folder must not record one checkout's path (CMakeSystem.cmake includes it at every
  # configure, and a removed checkout would break the shared build): use a copy in the cache, by content
  get_filename_component(_tc_name "${TOOLCHAIN_FILE}" NAME)
  string(SUBSTRING "${_tc_hash}" 0 16 _tc_short)
  set(_tc_copy "${CACHE_DIR}/toolchains/${_tc_short}/${_tc_name}")
  if(NOT EXISTS "${_tc_copy}")
    file(MAKE_DIRECTORY "${CACHE_DIR}/toolchains/${_tc_short}")
    file(COPY_FILE "${TOOLCHAIN_FILE}" "${_tc_copy}.tmp")
    file(RENAME "${_tc_copy}.tmp" "${_tc_copy}")
  endif()
  set(TOOLCHAIN_FILE "${_tc_copy}")
  set(SHIM_OPTS "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
endif()
set(SHIM_ID_EXTRA "")
if(DEFINED SHIM_TOOLS AND NOT SHIM_TOOLS STREQUAL "" AND NOT SHIM_TOOLS)
  list(APPEND SHIM_OPTS "-DLLAMAJAVA_TOOLS=OFF")
  set(SHIM_ID_EXTRA "|notools")
endif()

string(SHA256 KEY "${SOURCE_ID}|${BACKEND}|${OPTS}|${CMAKE_HOST_SYSTEM_PROCESSOR}${KEY_EXTRA}")
if(TOOLCHAIN_FILE)
  list(APPEND OPTS "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
endif()
string(SUBSTRING "${KEY}" 0 16 KEY)
set(BUILD_DIR "${CACHE_DIR}/build/${BACKEND}-${KEY}")
set(PREFIX "${CACHE_DIR}/install/${BACKEND}-${KEY}")
set(STAMP "${PREFIX}/.complete")
if(PRINT_KEY)
  # -DPRINT_KEY=ON: print the build key and stop (scripts use it to find a cached build)
  message(STATUS "llama.cpp: build key ${BACKEND}-${KEY}")
  return()
endif()

# ---- 2b. the AMX tile-config check (cmake/amx-check), once per build key -------------
# Fails the build where the compiler would drop the stores of ggml's AMX tile configuration (GCC 12
# without cmake/patches/0001-*): such natives crash on every CPU with AMX. It builds nothing for
# targets without ggml's AMX code, and is built but not run for targets this host cannot run.
set(AMX_CHECK_BUILD "${CACHE_DIR}/build/amx-check-${KEY}")
if(NOT EXISTS "${AMX_CHECK_BUILD}/.passed")
  set(_mmq "${SRC}/ggml/src/ggml-cpu/amx/mmq.cpp")
  if(EXISTS "${_mmq}")
    set(_tc "")
    if(TOOLCHAIN_FILE)
      set(_tc "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
    endif()
    execute_process(COMMAND "${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}/amx-check" -B "${AMX_CHECK_BUILD}"
                            -DCMAKE_BUILD_TYPE=Release "-DMMQ_SOURCE=${_mmq}" ${_tc} RESULT_VARIABLE rc)
    if(rc EQUAL 0)
      execute_process(COMMAND "${CMAKE_COMMAND}" --build "${AMX_CHECK_BUILD}" RESULT_VARIABLE rc)
    endif()
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "amx-check: could not build the AMX tile-config check (${rc})")
    endif()
    set(_ran "")
    if(NOT TOOLCHAIN_FILE)
      foreach(level 2 3)
        if(EXISTS "${AMX_CHECK_BUILD}/llamajava-amx-check-O${level}")
          execute_process(COMMAND "${AMX_CHECK_BUILD}/llamajava-amx-check-O${level}" RESULT_VARIABLE rc
                          OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
          string(STRIP "${_out}" _out)
          message(STATUS "amx-check -O${level}: ${_out}")
          if(NOT rc EQUAL 0)
            message(FATAL_ERROR "amx-check: ${_out}\n"
              "The compiler drops the stores of ggml's AMX tile configuration (-O${level}): natives built so "
              "crash on every CPU with AMX (SIGILL in ggml_backend_amx_mul_mat). Build from the pinned source, "
              "which carries cmake/patches/0001-ggml-cpu-amx-keep-tile-config-stores.patch, or apply that "
              "patch to -Dllama.cpp.dir's checkout.")
          endif()
          set(_ran "${_ran} -O${level}")
        endif()
      endforeach()
    endif()
    if(_ran)
      message(STATUS "amx-check: ggml's tile configuration keeps its stores (${_ran})")
    endif()
    file(WRITE "${AMX_CHECK_BUILD}/.passed" "${SOURCE_ID}\n")
  endif()
endif()

# ---- 3. configure, build, install (skipped when cached) -----------------------
# The targets are not part of the key: a cached build that lacks some of them builds just those
# (incrementally, in the same build folder) and installs again.
if(NOT TARGETS)
  set(TARGETS llama ggml common mtmd llama-simple llama-tokenize llama-quantize llama-bench llama-embedding
              llama-completion llama-mtmd-cli llama-export-lora llama-gguf-split llama-lookup llama-speculative
              llama-speculative-simple llama-batched-bench ggml-rpc-server)
  if(BACKEND_DL)
    # llama.cpp defines llama-export-lora (and cvector-generator) only with the backends linked in
    # (tools/CMakeLists.txt: NOT GGML_BACKEND_DL): a portable or GPU build has no such target
    list(REMOVE_ITEM TARGETS llama-export-lora)
  endif()
  if(VULKAN_SOURCE)
    # named here too: a generator without a 'help' target (Visual Studio) lists no dynamic backends below
    list(APPEND TARGETS ggml-vulkan)
  endif()
endif()
set(_stamp_text "${SOURCE_ID}\n${TARGETS}\n")
set(_stamp_old "")
if(EXISTS "${STAMP}")
  file(READ "${STAMP}" _stamp_old)
endif()
if(_stamp_old STREQUAL _stamp_text)
  message(STATUS "llama.cpp: cached build ${BACKEND}-${KEY} at ${PREFIX}")
else()
  message(STATUS "llama.cpp: building ${BACKEND}-${KEY} from ${SRC} (jobs: ${JOBS})")
  # a build folder configured (before the copy above) with a toolchain file that is gone cannot be
  # configured again (its CMakeSystem.cmake includes that path): start it afresh
  file(GLOB _systems "${BUILD_DIR}/CMakeFiles/*/CMakeSystem.cmake")
  foreach(_system IN LISTS _systems)
    file(STRINGS "${_system}" _old_tc REGEX "^include\\(\"")
    string(REGEX REPLACE "^include\\(\"([^\"]*)\"\\).*" "\\1" _old_tc "${_old_tc}")
    if(_old_tc AND NOT EXISTS "${_old_tc}")
      message(STATUS "llama.cpp: ${BUILD_DIR} was configured with ${_old_tc}, which is gone: configuring afresh")
      file(REMOVE "${BUILD_DIR}/CMakeCache.txt")
      file(REMOVE_RECURSE "${BUILD_DIR}/CMakeFiles")
      break()
    endif()
  endforeach()
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SRC}" -B "${BUILD_DIR}" ${OPTS}
                          "-DCMAKE_INSTALL_PREFIX=${PREFIX}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "llama.cpp configure failed (${rc})")
  endif()
  if(BACKEND_DL)
    # dynamically loaded backends are no dependency of ggml: name them as targets
    execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target help
                    OUTPUT_VARIABLE _help ERROR_QUIET)
    string(REGEX MATCHALL "ggml-(cpu|cuda|metal|vulkan)[-a-z0-9_]*" _dl "${_help}")
    list(REMOVE_DUPLICATES _dl)
    list(FILTER _dl EXCLUDE REGEX "(feats|\\.o)$")
    message(STATUS "llama.cpp: dynamic backends: ${_dl}")
    list(APPEND TARGETS ${_dl})
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --config ${BUILD_TYPE}
                          --parallel ${JOBS} --target ${TARGETS}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "llama.cpp build failed (${rc})")
  endif()
  # Install by hand: 'cmake --install' would need every default target built.
  file(REMOVE_RECURSE "${PREFIX}")
  file(MAKE_DIRECTORY "${PREFIX}/lib" "${PREFIX}/bin" "${PREFIX}/include")
  file(GLOB _libs "${BUILD_DIR}/bin/*.so" "${BUILD_DIR}/bin/*.dylib" "${BUILD_DIR}/bin/*.dll"
                  "${BUILD_DIR}/bin/*.dll.a" "${BUILD_DIR}/lib/*.dll.a")
  foreach(f IN LISTS _libs)
    get_filename_component(n "${f}" NAME)
    file(COPY_FILE "${f}" "${PREFIX}/lib/${n}" ONLY_IF_DIFFERENT)
  endforeach()
  foreach(t IN LISTS TARGETS)
    foreach(exe "${t}" "${t}.exe")
      if(EXISTS "${BUILD_DIR}/bin/${exe}")
        file(COPY "${BUILD_DIR}/bin/${exe}" DESTINATION "${PREFIX}/bin")
      endif()
    endforeach()
  endforeach()
  file(COPY "${SRC}/include/" DESTINATION "${PREFIX}/include")
  file(COPY "${SRC}/ggml/include/" DESTINATION "${PREFIX}/include")
  file(COPY "${SRC}/tools/mtmd/mtmd.h" "${SRC}/tools/mtmd/mtmd-helper.h" DESTINATION "${PREFIX}/include")
  file(WRITE "${STAMP}" "${_stamp_text}")
endif()

# MinGW import libraries (libllama.dll.a, ...: what the shim and the JNI library link against) are
# written beside each target's objects, not into bin/: copy them (on every run, so that a build
# installed before this step gets them too)
file(GLOB_RECURSE _implibs "${BUILD_DIR}/*.dll.a")
foreach(f IN LISTS _implibs)
  get_filename_component(n "${f}" NAME)
  file(COPY_FILE "${f}" "${PREFIX}/lib/${n}" ONLY_IF_DIFFERENT)
endforeach()

# ---- 4. the shim, keyed by the llama build and the shim's own sources --------------
if(NOT SHIM_DIR)
  get_filename_component(SHIM_DIR "${CMAKE_CURRENT_LIST_DIR}/../native/src/main/cpp" ABSOLUTE)
endif()
file(GLOB _shim_files "${SHIM_DIR}/*")
set(_shim_id "${KEY}${SHIM_ID_EXTRA}")
foreach(f IN LISTS _shim_files)
  file(SHA256 "${f}" _h)
  string(APPEND _shim_id "|${_h}")
endforeach()
string(SHA256 SHIM_KEY "${_shim_id}")
string(SUBSTRING "${SHIM_KEY}" 0 16 SHIM_KEY)
set(SHIM_BUILD "${CACHE_DIR}/build/shim-${SHIM_KEY}")
if(NOT EXISTS "${SHIM_BUILD}/.complete")
  message(STATUS "llama-java shim: building shim-${SHIM_KEY}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SHIM_DIR}" -B "${SHIM_BUILD}" -DCMAKE_BUILD_TYPE=${BUILD_TYPE} ${SHIM_OPTS}
                          "-DLLAMA_SRC=${SRC}" "-DLLAMA_LIB=${PREFIX}/lib" RESULT_VARIABLE rc)
  if(rc EQUAL 0)
    execute_process(COMMAND "${CMAKE_COMMAND}" --build "${SHIM_BUILD}" --config ${BUILD_TYPE} --parallel ${JOBS}
                    RESULT_VARIABLE rc)
  endif()
  if(NOT rc EQUAL 0 AND SHIM_OPTIONAL)
    # SHIM_OPTIONAL=ON (ci/cross-windows.sh): publish llama.cpp without the shim
    message(WARNING "llama-java shim: build failed (${rc}); publishing without it")
  elseif(NOT rc EQUAL 0)
    message(FATAL_ERROR "shim build failed (${rc})")
  else()
    file(WRITE "${SHIM_BUILD}/.complete" "${_shim_id}\n")
  endif()
endif()

# ---- 5. publish into OUT_DIR ----------------------------------------------------
file(REMOVE_RECURSE "${OUT_DIR}")
file(MAKE_DIRECTORY "${OUT_DIR}")
foreach(d include lib bin)
  file(COPY "${PREFIX}/${d}" DESTINATION "${OUT_DIR}")
endforeach()
file(GLOB _shim_libs "${SHIM_BUILD}/*llamajava.so" "${SHIM_BUILD}/*llamajava.dylib" "${SHIM_BUILD}/*llamajava.dll")
if(_shim_libs)
  file(COPY ${_shim_libs} DESTINATION "${OUT_DIR}/lib")
endif()
file(COPY "${SHIM_DIR}/llamajava.h" DESTINATION "${OUT_DIR}/include")
# MinGW-w64 builds (cmake/toolchains/windows-x86_64-mingw.cmake) link the GNU C++ runtime dynamically:
# its DLLs go beside llama.cpp's, as Windows looks for a DLL's imports in the folder of the program or
# among those already loaded
file(GLOB _cxx_files "${BUILD_DIR}/CMakeFiles/*/CMakeCXXCompiler.cmake")
if(_cxx_files)
  list(GET _cxx_files 0 _cxx)
  file(STRINGS "${_cxx}" _cxx REGEX "^set\\(CMAKE_CXX_COMPILER \"")
  string(REGEX REPLACE "^set\\(CMAKE_CXX_COMPILER \"([^\"]*)\"\\).*" "\\1" _cxx "${_cxx}")
  if(_cxx MATCHES "mingw32")
    foreach(_dll libstdc++-6.dll libgcc_s_seh-1.dll libwinpthread-1.dll)
      execute_process(COMMAND "${_cxx}" "-print-file-name=${_dll}" OUTPUT_VARIABLE _path OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(IS_ABSOLUTE "${_path}" AND EXISTS "${_path}")
        file(COPY_FILE "${_path}" "${OUT_DIR}/lib/${_dll}")
        # Debian ships them with debug sections (libstdc++-6.dll: 23.7 MB, 4.3 MB without)
        string(REGEX REPLACE "g\\+\\+(-posix|-win32)?$" "strip" _strip "${_cxx}")
        if(EXISTS "${_strip}")
          execute_process(COMMAND "${_strip}" --strip-debug "${OUT_DIR}/lib/${_dll}")
        endif()
      else()
        message(WARNING "llama.cpp: ${_cxx} does not know ${_dll}; the DLLs need it beside them")
      endif()
    endforeach()
  endif()
endif()
# Licences of what the native libraries contain, copied from the source tree they were built from
# (never committed here); native/ ships them in every native jar under META-INF/licenses.
set(_lic "${OUT_DIR}/licenses")
file(MAKE_DIRECTORY "${_lic}")
foreach(pair "llama.cpp-ggml-LICENSE.txt=LICENSE" "nlohmann-json-LICENSE.txt=licenses/LICENSE-jsonhpp"
             "cpp-httplib-LICENSE.txt=vendor/cpp-httplib/LICENSE" "xxhash-LICENSE.txt=vendor/hash/xxhash/LICENSE"
             "sha256-LICENSE.txt=vendor/hash/sha256/LICENSE" "rotate-bits-LICENSE.md=vendor/hash/rotate-bits/LICENSE.md")
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 _to)
  list(GET pair 1 _from)
  if(EXISTS "${SRC}/${_from}")
    file(COPY_FILE "${SRC}/${_from}" "${_lic}/${_to}")
  endif()
endforeach()
# stb_image and miniaudio (in libmtmd) carry their licence at the end of their single header
foreach(pair "stb_image-LICENSE.txt=vendor/stb/stb_image.h=This software is available under 2 licenses"
             "miniaudio-LICENSE.txt=vendor/miniaudio/miniaudio.h=This software is available as a choice")
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 _to)
  list(GET pair 1 _from)
  list(GET pair 2 _marker)
  if(EXISTS "${SRC}/${_from}")
    file(READ "${SRC}/${_from}" _text)
    string(FIND "${_text}" "${_marker}" _at REVERSE)
    if(_at GREATER -1)
      string(SUBSTRING "${_text}" ${_at} -1 _text)
      file(WRITE "${_lic}/${_to}" "From ${_from} of llama.cpp ${SOURCE_ID}:\n\n${_text}")
    endif()
  endif()
endforeach()
if(EXISTS "${AMX_CHECK_BUILD}/llamajava-amx-check-O3")
  file(COPY_FILE "${AMX_CHECK_BUILD}/llamajava-amx-check-O3" "${OUT_DIR}/bin/llamajava-amx-check")
endif()
foreach(tool test-chat-template llamajava-loader-dump llamajava-embedding llamajava-json-schema-cases llamajava-infill)
  if(EXISTS "${SHIM_BUILD}/${tool}")
    file(COPY "${SHIM_BUILD}/${tool}" DESTINATION "${OUT_DIR}/bin")
  endif()
endforeach()
# With GGML_BACKEND_DL, ggml loads its backends (CPU variants, CUDA, RPC, ...) at run time from a
# folder; list them so that the Java side can extract them from the jar next to the others. (RPC is
# such a module too: unlisted, a portable build had no RPC backend.)
# ggml_backend_load() works in any build, so prebuilt backends join a host-native build too
foreach(_pb vulkan cuda)
  string(TOUPPER "${_pb}" _PB)
  if(${_PB}_PREBUILT)
    llama_prebuilt_backend("${CACHE_DIR}" ${_pb} _dir)
    file(COPY "${_dir}/libggml-${_pb}.so" DESTINATION "${OUT_DIR}/lib")
    file(COPY_FILE "${_dir}/LICENSE" "${_lic}/node-llama-cpp-LICENSE.txt")
    file(COPY_FILE "${_dir}/_nlcBuildMetadata.json" "${OUT_DIR}/lib/ggml-${_pb}-build.json")
  endif()
endforeach()
file(GLOB _backends RELATIVE "${OUT_DIR}/lib" "${OUT_DIR}/lib/*ggml-cpu*" "${OUT_DIR}/lib/*ggml-cuda.so"
                                              "${OUT_DIR}/lib/*ggml-cuda.dll"
                                              "${OUT_DIR}/lib/*ggml-metal*" "${OUT_DIR}/lib/*ggml-rpc*"
                                              "${OUT_DIR}/lib/*ggml-vulkan.so" "${OUT_DIR}/lib/*ggml-vulkan.dll")
if(BACKEND_DL OR VULKAN_PREBUILT)
  if(NOT BACKEND_DL)
    list(FILTER _backends INCLUDE REGEX "ggml-(vulkan|cuda)")
  endif()
  list(JOIN _backends "\n" _list)
  file(WRITE "${OUT_DIR}/lib/ggml-backends.txt" "${_list}\n")
  # llama.cpp's own tools look for them next to the executable (or in the working directory)
  foreach(b IN LISTS _backends)
    file(CREATE_LINK "../lib/${b}" "${OUT_DIR}/bin/${b}" SYMBOLIC)
  endforeach()
endif()
file(WRITE "${OUT_DIR}/llama-build.properties"
"llama.source.dir=${SRC}
llama.source.id=${SOURCE_ID}
llama.backend=${BACKEND_NAME}
llama.vulkan.prebuilt=${VULKAN_PREBUILT}
llama.vulkan.source=${VULKAN_SOURCE}
llama.cuda.prebuilt=${CUDA_PREBUILT}
llama.build.key=${BACKEND}-${KEY}
llama.prefix=${PREFIX}
llama.cpu.all.variants=${CPU_ALL_VARIANTS}
llama.backend.dl=${BACKEND_DL}
")
message(STATUS "llama.cpp: published to ${OUT_DIR}")
