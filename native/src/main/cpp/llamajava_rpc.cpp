// llama-java's shim over ggml's RPC backend (ggml-rpc.h), reached through the backend registry
// as llama.cpp's common/arg.cpp (--rpc) and tools/rpc/rpc-server.cpp do, so that it works
// whether ggml-rpc is linked in or loaded as a dynamic backend.
#include "llamajava.h"

#include "ggml-backend.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
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

// ---- the RPC abort guard ------------------------------------------------------------------

static std::mutex g_guard_mutex;
static std::atomic<int> g_guard_failures{0};
static std::string g_guard_message;
static ggml_abort_callback_t g_previous_abort = nullptr;
static bool g_guard_installed = false;

static void llamajava_rpc_guard(const char * message) {
    if (message != nullptr && std::strstr(message, "ggml-rpc.cpp") != nullptr) {
        {
            std::lock_guard<std::mutex> lock(g_guard_mutex);
            g_guard_message = message;
        }
        g_guard_failures.fetch_add(1);
        // never return: ggml calls abort() when the callback returns. This thread (the dead
        // connection's dispatcher, or a worker of the Java side) stays parked; nothing it holds
        // can be freed safely.
        for (;;) {
            std::this_thread::sleep_for(std::chrono::hours(24));
        }
    }
    if (g_previous_abort != nullptr) {
        g_previous_abort(message);
    } else {
        std::fprintf(stderr, "%s\n", message != nullptr ? message : "ggml abort");
        std::fflush(stderr);
    }
}

int llamajava_rpc_guard_install(void) {
    std::lock_guard<std::mutex> lock(g_guard_mutex);
    if (!g_guard_installed) {
        g_previous_abort = ggml_set_abort_callback(llamajava_rpc_guard);
        g_guard_installed = true;
    }
    return 1;
}

int llamajava_rpc_guard_failures(void) {
    return g_guard_failures.load();
}

void llamajava_rpc_guard_message(char * buf, int size) {
    if (buf == nullptr || size <= 0) {
        return;
    }
    std::lock_guard<std::mutex> lock(g_guard_mutex);
    std::snprintf(buf, (size_t) size, "%s", g_guard_message.c_str());
}
