// llama-java's shim over ggml's RPC backend (ggml-rpc.h), reached through the backend registry
// as llama.cpp's common/arg.cpp (--rpc) and tools/rpc/rpc-server.cpp do, so that it works
// whether ggml-rpc is linked in or loaded as a dynamic backend.
#include "llamajava.h"

#include "ggml-backend.h"

#include <string>
#include <vector>

static ggml_backend_reg_t rpc_reg() {
    return ggml_backend_reg_by_name("RPC");
}

int llamajava_rpc_available(void) {
    return rpc_reg() != nullptr;
}

int llamajava_rpc_add_server(const char * endpoint) {
    ggml_backend_reg_t rpc = rpc_reg();
    if (!rpc) {
        return -1;
    }
    typedef ggml_backend_reg_t (*add_server_t)(const char * endpoint);
    auto add = (add_server_t) ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server");
    if (!add) {
        return -1;
    }
    ggml_backend_reg_t reg = add(endpoint);
    if (!reg) {
        return 0;
    }
    ggml_backend_register(reg);
    return (int) ggml_backend_reg_dev_count(reg);
}

int llamajava_rpc_start_server(const char * endpoint, const char * cache_dir, int n_threads,
                               const char * device_names) {
    ggml_backend_reg_t rpc = rpc_reg();
    if (!rpc) {
        return -1;
    }
    typedef void (*start_server_t)(const char *, const char *, size_t, size_t, ggml_backend_dev_t *);
    auto start = (start_server_t) ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_start_server");
    if (!start) {
        return -1;
    }
    std::vector<ggml_backend_dev_t> devices;
    std::string names = device_names ? device_names : "";
    size_t pos = 0;
    while (pos < names.size()) {
        size_t comma = names.find(',', pos);
        std::string name = names.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? names.size() : comma + 1;
        if (name.empty()) {
            continue;
        }
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(name.c_str());
        if (!dev) {
            return -2;
        }
        devices.push_back(dev);
    }
    if (devices.empty()) {
        return -2;
    }
    start(endpoint, cache_dir, (size_t) n_threads, devices.size(), devices.data());
    return -3; // the server returns only when it could not start or accept
}
