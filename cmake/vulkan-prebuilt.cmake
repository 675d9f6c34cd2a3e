# llama.cpp's Vulkan backend for linux-x86_64, prebuilt: libggml-vulkan.so from the npm package
# @node-llama-cpp/linux-x64-vulkan@3.22.1 (MIT), built by node-llama-cpp from the same llama.cpp
# release (v0.5.0) as the pinned source (pinned-source.cmake: node-llama-cpp@3.22.1's git bundle), on
# Ubuntu 22.04 with GGML_BACKEND_DL. It is loaded at run time as a ggml dynamic backend beside
# llama-java's own build; only that one library is taken (never its libggml-base, CPU variants or
# libllama). Debian 12 cannot build this release's Vulkan backend: docs/gpu.md says why this way.
# The package tarball is checked against its SHA-256 before anything in it is used.
set(LLAMA_VULKAN_NPM_PACKAGE "@node-llama-cpp/linux-x64-vulkan@3.22.1")
set(LLAMA_VULKAN_TARBALL "node-llama-cpp-linux-x64-vulkan-3.22.1.tgz")
set(LLAMA_VULKAN_SHA256 "e10577190fc4bd1649d3b655588e5c7a85fc6b6dbf7136fee596cbe9e25521e7")
set(LLAMA_VULKAN_DIR_IN_PACKAGE "package/bins/linux-x64-vulkan")

# llama_vulkan_prebuilt(<cache dir> <out var>): sets <out var> to a folder holding the verified
# libggml-vulkan.so, _nlcBuildMetadata.json and LICENSE, fetching them on first use.
function(llama_vulkan_prebuilt cache out)
  set(dl "${cache}/download")
  set(tgz "${dl}/${LLAMA_VULKAN_TARBALL}")
  set(dir "${cache}/prebuilt/linux-x64-vulkan-3.22.1")
  if(EXISTS "${dir}/.llama-java-verified")
    set(${out} "${dir}" PARENT_SCOPE)
    return()
  endif()
  llama_npm_tarball("${dl}" "${LLAMA_VULKAN_NPM_PACKAGE}" "${LLAMA_VULKAN_TARBALL}" "${LLAMA_VULKAN_SHA256}"
                    "the Vulkan backend")
  set(unpack "${dl}/unpack-vulkan")
  file(REMOVE_RECURSE "${unpack}" "${dir}")
  file(MAKE_DIRECTORY "${unpack}" "${dir}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xzf "${tgz}"
                          "${LLAMA_VULKAN_DIR_IN_PACKAGE}/libggml-vulkan.so"
                          "${LLAMA_VULKAN_DIR_IN_PACKAGE}/_nlcBuildMetadata.json" "package/LICENSE"
                  WORKING_DIRECTORY "${unpack}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "could not extract libggml-vulkan.so from ${tgz}")
  endif()
  # the backend must come from the pinned llama.cpp release (its ABI is that of our ggml-base)
  file(READ "${unpack}/${LLAMA_VULKAN_DIR_IN_PACKAGE}/_nlcBuildMetadata.json" meta)
  string(JSON release ERROR_VARIABLE err GET "${meta}" buildOptions llamaCpp release)
  if(err OR NOT release STREQUAL LLAMA_PIN_VERSION)
    message(FATAL_ERROR "${LLAMA_VULKAN_NPM_PACKAGE} was built from llama.cpp '${release}', not the pinned "
                        "${LLAMA_PIN_VERSION} ${err}")
  endif()
  file(COPY "${unpack}/${LLAMA_VULKAN_DIR_IN_PACKAGE}/libggml-vulkan.so"
            "${unpack}/${LLAMA_VULKAN_DIR_IN_PACKAGE}/_nlcBuildMetadata.json" DESTINATION "${dir}")
  file(COPY_FILE "${unpack}/package/LICENSE" "${dir}/LICENSE")
  file(REMOVE_RECURSE "${unpack}")
  file(WRITE "${dir}/.llama-java-verified" "${LLAMA_VULKAN_SHA256}\n")
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()
