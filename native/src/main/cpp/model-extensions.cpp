// llama-java shim, issue 16 (model extensions): quantization with an importance matrix, loaded
// and attached exactly as llama.cpp's llama-quantize does (tools/quantize/quantize.cpp), because
// the imatrix loader (common_imatrix_load) is C++ API of libcommon.
#include "llamajava.h"

#include "imatrix-loader.h"
#include "llama.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

static char * llamajava_ext_strdup(const std::string & s) {
    char * p = (char *) std::malloc(s.size() + 1);
    if (p) {
        std::memcpy(p, s.c_str(), s.size() + 1);
    }
    return p;
}

extern "C" uint32_t llamajava_quantize(const char * fname_inp, const char * fname_out,
                                       const struct llama_model_quantize_params * in_params,
                                       const char * imatrix_file, char ** error) {
    if (error) {
        *error = nullptr;
    }
    llama_model_quantize_params params = *in_params;
    std::unordered_map<std::string, std::vector<float>> imatrix_data;
    std::vector<std::string> datasets;
    int chunk_count = -1;
    std::vector<llama_model_imatrix_data> i_data;
    std::vector<llama_model_kv_override> kv_overrides;
    if (imatrix_file && imatrix_file[0]) {
        common_imatrix loaded;
        try {
            if (!common_imatrix_load(imatrix_file, loaded)) {
                if (error) *error = llamajava_ext_strdup(std::string("failed to load the importance matrix from '") + imatrix_file + "'");
                return 1;
            }
        } catch (const std::exception & e) {
            if (error) *error = llamajava_ext_strdup(std::string("failed to load the importance matrix from '") + imatrix_file + "': " + e.what());
            return 1;
        }
        if (!loaded.is_legacy && !loaded.has_metadata) {
            if (error) *error = llamajava_ext_strdup(std::string("missing imatrix metadata in file ") + imatrix_file);
            return 1;
        }
        for (const auto & [name, entry] : loaded.entries) {
            auto & e = imatrix_data[name];
            e.resize(entry.sums.size());
            if (!loaded.is_legacy) {
                const int64_t ncounts = entry.counts.size();
                const int64_t ne0 = ncounts == 0 ? 0 : (int64_t) entry.sums.size() / ncounts;
                for (int64_t j = 0; j < ncounts; ++j) {
                    const float count = (float) entry.counts[j];
                    for (int64_t i = 0; i < ne0; ++i) {
                        e[j*ne0 + i] = count > 0.0f ? entry.sums[j*ne0 + i] / count : 1;
                    }
                }
            } else {
                const int64_t ncall = entry.counts.empty() ? 0 : entry.counts[0];
                for (size_t i = 0; i < entry.sums.size(); ++i) {
                    e[i] = ncall > 0 ? entry.sums[i] / ncall : entry.sums[i];
                }
            }
        }
        datasets = std::move(loaded.datasets);
        chunk_count = loaded.chunk_count;
    }
    if (!imatrix_data.empty()) {
        i_data.reserve(imatrix_data.size() + 1);
        for (const auto & kv : imatrix_data) {
            i_data.push_back({kv.first.c_str(), kv.second.data(), kv.second.size()});
        }
        i_data.push_back({nullptr, nullptr, 0});
        params.imatrix = i_data.data();
        {
            llama_model_kv_override kvo{};
            std::strcpy(kvo.key, "quantize.imatrix.file");
            kvo.tag = LLAMA_KV_OVERRIDE_TYPE_STR;
            std::strncpy(kvo.val_str, imatrix_file, 127);
            kvo.val_str[127] = '\0';
            kv_overrides.push_back(kvo);
        }
        if (!datasets.empty()) {
            llama_model_kv_override kvo{};
            std::strcpy(kvo.key, "quantize.imatrix.dataset");
            kvo.tag = LLAMA_KV_OVERRIDE_TYPE_STR;
            std::strncpy(kvo.val_str, datasets[0].c_str(), 127);
            kvo.val_str[127] = '\0';
            kv_overrides.push_back(kvo);
        }
        {
            llama_model_kv_override kvo{};
            std::strcpy(kvo.key, "quantize.imatrix.entries_count");
            kvo.tag = LLAMA_KV_OVERRIDE_TYPE_INT;
            kvo.val_i64 = imatrix_data.size();
            kv_overrides.push_back(kvo);
        }
        if (chunk_count > 0) {
            llama_model_kv_override kvo{};
            std::strcpy(kvo.key, "quantize.imatrix.chunks_count");
            kvo.tag = LLAMA_KV_OVERRIDE_TYPE_INT;
            kvo.val_i64 = chunk_count;
            kv_overrides.push_back(kvo);
        }
        kv_overrides.emplace_back();
        kv_overrides.back().key[0] = 0;
        params.kv_overrides = kv_overrides.data();
    }
    try {
        uint32_t rc = llama_model_quantize(fname_inp, fname_out, &params);
        if (rc != 0 && error) {
            *error = llamajava_ext_strdup("llama_model_quantize failed");
        }
        return rc;
    } catch (const std::exception & e) {
        if (error) *error = llamajava_ext_strdup(e.what());
        return 1;
    }
}
