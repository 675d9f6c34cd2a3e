# llama.cpp's GPU backends for linux-x86_64, prebuilt: one library each from node-llama-cpp's npm packages
# (MIT) of the same llama.cpp release (v0.5.0) as the pinned source (pinned-source.cmake: node-llama-cpp@3.22.1's
# git bundle), built on Ubuntu 22.04 with GGML_BACKEND_DL. Each is loaded at run time as a ggml dynamic backend
# beside llama-java's own build; only the backend library is taken (never the package's libggml-base, CPU
# variants or libllama). docs/gpu.md says why this way. A package's tarball is checked against its SHA-256
# before anything in it is used, and its build metadata must name the pinned release.
#
#   vulkan: @node-llama-cpp/linux-x64-vulkan@3.22.1, libggml-vulkan.so (43 MB; needs a Vulkan loader and driver)
#   cuda:   @node-llama-cpp/linux-x64-cuda@3.22.1, libggml-cuda.so (159 MB; CUDA 13: needs libcudart.so.13,
#           libcublas.so.13 and the NVIDIA driver's libcuda.so.1, none of them in the package)
set(LLAMA_VULKAN_NPM_PACKAGE "@node-llama-cpp/linux-x64-vulkan@3.22.1")
set(LLAMA_VULKAN_TARBALL "node-llama-cpp-linux-x64-vulkan-3.22.1.tgz")
set(LLAMA_VULKAN_SHA256 "e10577190fc4bd1649d3b655588e5c7a85fc6b6dbf7136fee596cbe9e25521e7")
set(LLAMA_VULKAN_DIR_IN_PACKAGE "package/bins/linux-x64-vulkan")

set(LLAMA_CUDA_NPM_PACKAGE "@node-llama-cpp/linux-x64-cuda@3.22.1")
set(LLAMA_CUDA_TARBALL "node-llama-cpp-linux-x64-cuda-3.22.1.tgz")
set(LLAMA_CUDA_SHA256 "d6cd3ff39a43b024816952e0bc6452d6711608d26256ff6eb0fe8cf7ff55bb2c")
set(LLAMA_CUDA_DIR_IN_PACKAGE "package/bins/linux-x64-cuda")

# llama_prebuilt_backend(<cache dir> <vulkan|cuda> <out var>): sets <out var> to a folder holding the verified
# libggml-<name>.so, _nlcBuildMetadata.json and LICENSE, fetching them on first use.
function(llama_prebuilt_backend cache name out)
  string(TOUPPER "${name}" N)
  set(package "${LLAMA_${N}_NPM_PACKAGE}")
  set(tarball "${LLAMA_${N}_TARBALL}")
  set(sha256 "${LLAMA_${N}_SHA256}")
  set(in_package "${LLAMA_${N}_DIR_IN_PACKAGE}")
  if(NOT package)
    message(FATAL_ERROR "no prebuilt backend '${name}' (vulkan or cuda)")
  endif()
  set(lib "libggml-${name}.so")
  set(dl "${cache}/download")
  set(tgz "${dl}/${tarball}")
  set(dir "${cache}/prebuilt/linux-x64-${name}-3.22.1")
  if(EXISTS "${dir}/.llama-java-verified")
    set(${out} "${dir}" PARENT_SCOPE)
    return()
  endif()
  llama_npm_tarball("${dl}" "${package}" "${tarball}" "${sha256}" "the ${name} backend")
  set(unpack "${dl}/unpack-${name}")
  file(REMOVE_RECURSE "${unpack}" "${dir}")
  file(MAKE_DIRECTORY "${unpack}" "${dir}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xzf "${tgz}"
                          "${in_package}/${lib}" "${in_package}/_nlcBuildMetadata.json" "package/LICENSE"
                  WORKING_DIRECTORY "${unpack}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "could not extract ${lib} from ${tgz}")
  endif()
  # the backend must come from the pinned llama.cpp release (its ABI is that of our ggml-base)
  file(READ "${unpack}/${in_package}/_nlcBuildMetadata.json" meta)
  string(JSON release ERROR_VARIABLE err GET "${meta}" buildOptions llamaCpp release)
  if(err OR NOT release STREQUAL LLAMA_PIN_VERSION)
    message(FATAL_ERROR "${package} was built from llama.cpp '${release}', not the pinned "
                        "${LLAMA_PIN_VERSION} ${err}")
  endif()
  file(COPY "${unpack}/${in_package}/${lib}" "${unpack}/${in_package}/_nlcBuildMetadata.json" DESTINATION "${dir}")
  file(COPY_FILE "${unpack}/package/LICENSE" "${dir}/LICENSE")
  file(REMOVE_RECURSE "${unpack}")
  file(WRITE "${dir}/.llama-java-verified" "${sha256}\n")
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()
