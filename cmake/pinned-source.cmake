# The pinned llama.cpp source: release v0.5.0 as shipped (as a git bundle) inside the npm
# package node-llama-cpp@3.22.1 (MIT). The package tarball is checked against its SHA-256
# before anything in it is used.
set(LLAMA_PIN_VERSION "v0.5.0")
set(LLAMA_PIN_NPM_PACKAGE "node-llama-cpp@3.22.1")
set(LLAMA_PIN_TARBALL "node-llama-cpp-3.22.1.tgz")
set(LLAMA_PIN_SHA256 "a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f")
set(LLAMA_PIN_BUNDLE "package/llama/gitRelease.bundle")

# llama_npm_tarball(<download dir> <package@version> <tarball name> <sha256> <what it is for>): makes sure
# <download dir>/<tarball name> is the package's tarball (npm pack on first use) with that SHA-256; a
# mismatch deletes it and fails. Used for the pinned source and for prebuilt backends.
function(llama_npm_tarball dl package tarball sha256 what)
  set(tgz "${dl}/${tarball}")
  file(MAKE_DIRECTORY "${dl}")
  if(NOT EXISTS "${tgz}")
    message(STATUS "llama.cpp: fetching ${package} with npm pack")
    find_program(NPM npm)
    if(NOT NPM)
      message(FATAL_ERROR "npm is needed to fetch ${what} (${package})")
    endif()
    execute_process(COMMAND "${NPM}" pack "${package}" --silent
                    WORKING_DIRECTORY "${dl}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${tgz}")
      message(FATAL_ERROR "npm pack ${package} failed (${rc})")
    endif()
  endif()
  file(SHA256 "${tgz}" actual)
  if(NOT actual STREQUAL sha256)
    file(REMOVE "${tgz}")
    message(FATAL_ERROR "checksum mismatch for ${tarball}: expected ${sha256}, got ${actual}; "
                        "the download was deleted")
  endif()
  message(STATUS "llama.cpp: ${tarball} sha256 verified")
endfunction()

# llama_pinned_source(<cache dir> <out var>): sets <out var> to a checkout of the pinned
# source under <cache dir>/src, fetching and verifying it on first use.
function(llama_pinned_source cache out)
  set(dl "${cache}/download")
  set(tgz "${dl}/${LLAMA_PIN_TARBALL}")
  set(src "${cache}/src/llama.cpp-${LLAMA_PIN_VERSION}")
  if(EXISTS "${src}/.llama-java-verified")
    set(${out} "${src}" PARENT_SCOPE)
    return()
  endif()

  llama_npm_tarball("${dl}" "${LLAMA_PIN_NPM_PACKAGE}" "${LLAMA_PIN_TARBALL}" "${LLAMA_PIN_SHA256}"
                    "the pinned llama.cpp source (or pass a local checkout with -Dllama.cpp.dir=PATH)")

  set(unpack "${dl}/unpack")
  file(REMOVE_RECURSE "${unpack}" "${src}")
  file(MAKE_DIRECTORY "${unpack}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xzf "${tgz}" "${LLAMA_PIN_BUNDLE}"
                  WORKING_DIRECTORY "${unpack}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "could not extract ${LLAMA_PIN_BUNDLE} from ${tgz}")
  endif()
  find_program(GIT git REQUIRED)
  execute_process(COMMAND "${GIT}" -c advice.detachedHead=false clone --quiet
                          "${unpack}/${LLAMA_PIN_BUNDLE}" "${src}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "git clone of the llama.cpp bundle failed (${rc})")
  endif()
  file(REMOVE_RECURSE "${unpack}")
  file(WRITE "${src}/.llama-java-verified" "${LLAMA_PIN_SHA256}\n")
  set(${out} "${src}" PARENT_SCOPE)
endfunction()

# Patches llama-java carries on the pinned source (cmake/patches/*.patch, applied in name order;
# each is documented in docs and small enough to send upstream).
set(LLAMA_PATCH_DIR "${CMAKE_CURRENT_LIST_DIR}/patches")
file(GLOB LLAMA_PATCHES "${LLAMA_PATCH_DIR}/*.patch")
list(SORT LLAMA_PATCHES)

# llama_patches_id(<out var>): the patches' names and content hashes, for build keys.
function(llama_patches_id out)
  set(id "")
  foreach(p IN LISTS LLAMA_PATCHES)
    get_filename_component(n "${p}" NAME)
    file(SHA256 "${p}" h)
    string(APPEND id "|${n}:${h}")
  endforeach()
  set(${out} "${id}" PARENT_SCOPE)
endfunction()

# llama_apply_patches(<source dir> <apply>): applies each patch that the tree lacks (apply ON), or
# warns about each one it lacks (apply OFF: a checkout of the user's own, which is not changed).
function(llama_apply_patches src apply)
  find_program(GIT git REQUIRED)
  foreach(p IN LISTS LLAMA_PATCHES)
    get_filename_component(n "${p}" NAME)
    execute_process(COMMAND "${GIT}" apply --check --reverse "${p}" WORKING_DIRECTORY "${src}"
                    RESULT_VARIABLE applied OUTPUT_QUIET ERROR_QUIET)
    if(applied EQUAL 0)
      message(STATUS "llama.cpp: patch ${n} is applied")
    elseif(apply)
      execute_process(COMMAND "${GIT}" apply "${p}" WORKING_DIRECTORY "${src}" RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "llama.cpp: patch ${n} does not apply to ${src} (${rc})")
      endif()
      message(STATUS "llama.cpp: applied patch ${n}")
    else()
      message(WARNING "llama.cpp: ${src} lacks llama-java's patch ${p}; apply it there "
                      "(git apply ${p}) unless that checkout fixes the same fault another way")
    endif()
  endforeach()
endfunction()
