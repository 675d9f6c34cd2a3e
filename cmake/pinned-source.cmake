# The pinned llama.cpp source: release v0.5.0 as shipped (as a git bundle) inside the npm
# package node-llama-cpp@3.22.1 (MIT). The package tarball is checked against its SHA-256
# before anything in it is used.
set(LLAMA_PIN_VERSION "v0.5.0")
set(LLAMA_PIN_NPM_PACKAGE "node-llama-cpp@3.22.1")
set(LLAMA_PIN_TARBALL "node-llama-cpp-3.22.1.tgz")
set(LLAMA_PIN_SHA256 "a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f")
set(LLAMA_PIN_BUNDLE "package/llama/gitRelease.bundle")

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

  file(MAKE_DIRECTORY "${dl}")
  if(NOT EXISTS "${tgz}")
    message(STATUS "llama.cpp: fetching ${LLAMA_PIN_NPM_PACKAGE} with npm pack")
    find_program(NPM npm)
    if(NOT NPM)
      message(FATAL_ERROR "npm is needed to fetch the pinned llama.cpp source "
                          "(or pass a local checkout with -Dllama.cpp.dir=PATH)")
    endif()
    execute_process(COMMAND "${NPM}" pack "${LLAMA_PIN_NPM_PACKAGE}" --silent
                    WORKING_DIRECTORY "${dl}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${tgz}")
      message(FATAL_ERROR "npm pack ${LLAMA_PIN_NPM_PACKAGE} failed (${rc})")
    endif()
  endif()

  file(SHA256 "${tgz}" actual)
  if(NOT actual STREQUAL LLAMA_PIN_SHA256)
    file(REMOVE "${tgz}")
    message(FATAL_ERROR "checksum mismatch for ${LLAMA_PIN_TARBALL}: expected "
                        "${LLAMA_PIN_SHA256}, got ${actual}; the download was deleted")
  endif()
  message(STATUS "llama.cpp: ${LLAMA_PIN_TARBALL} sha256 verified")

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
