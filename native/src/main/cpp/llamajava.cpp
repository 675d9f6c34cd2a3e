#include "llamajava.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "chat.h"
#include "ggml-backend.h"
#include "ggml.h"

static char * dup_string(const std::string & s) {
    char * out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out != nullptr) {
        std::memcpy(out, s.c_str(), s.size() + 1);
    }
    return out;
}

extern "C" char * llamajava_chat_apply(const struct llama_model * model, const char * template_source,
                                       const char * bos, const char * eos, const char * const * roles, const char * const * contents, size_t n,
                                       bool add_assistant, char ** error) {
    if (error != nullptr) {
        *error = nullptr;
    }
    const std::string source = template_source != nullptr ? template_source : "";
    if (model == nullptr && source.empty()) {
        if (error != nullptr) {
            *error = dup_string("no chat template: give a model or a template");
        }
        return nullptr;
    }
    try {
        common_chat_templates_ptr tmpls = common_chat_templates_init(model, source, bos != nullptr ? bos : "",
                                                                     eos != nullptr ? eos : "");
        common_chat_templates_inputs inputs;
        inputs.add_generation_prompt = add_assistant;
        inputs.use_jinja = true;
        for (size_t i = 0; i < n; i++) {
            common_chat_msg msg;
            msg.role = roles[i];
            msg.content = contents[i];
            inputs.messages.push_back(msg);
        }
        common_chat_params params = common_chat_templates_apply(tmpls.get(), inputs);
        return dup_string(params.prompt);
    } catch (const std::exception & e) {
        if (error != nullptr) {
            *error = dup_string(e.what());
        }
    } catch (...) {
        if (error != nullptr) {
            *error = dup_string("unknown error while applying the chat template");
        }
    }
    return nullptr;
}

extern "C" void llamajava_free(void * p) {
    std::free(p);
}

extern "C" bool llamajava_abort_if_set(void * flag) {
    return flag != nullptr && __atomic_load_n(static_cast<const int *>(flag), __ATOMIC_RELAXED) != 0;
}

extern "C" void llamajava_set_abort_flag(struct llama_context * ctx, int * flag) {
    llama_set_abort_callback(ctx, flag != nullptr ? llamajava_abort_if_set : nullptr, flag);
}

namespace {
using threadpool_new_fn  = ggml_threadpool * (*)(ggml_threadpool_params *);
using threadpool_free_fn = void (*)(ggml_threadpool *);

struct threadpools {
    threadpool_free_fn free_fn;
    ggml_threadpool *  gen;
    ggml_threadpool *  batch;
};
}  // namespace

extern "C" void * llamajava_threadpools_attach(struct llama_context * ctx, int n_threads, int n_threads_batch) {
    // looked up through the CPU backend's registry, as llama-bench does, so that this also works
    // when ggml loads its CPU backend at run time (GGML_BACKEND_DL)
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (ctx == nullptr || cpu == nullptr || n_threads < 1 || n_threads_batch < 1) {
        return nullptr;
    }
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
    auto new_fn  = (threadpool_new_fn) ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new");
    auto free_fn = (threadpool_free_fn) ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free");
    if (new_fn == nullptr || free_fn == nullptr) {
        return nullptr;
    }
    ggml_threadpool_params gen_params = ggml_threadpool_params_default(n_threads);
    ggml_threadpool * gen = new_fn(&gen_params);
    if (gen == nullptr) {
        return nullptr;
    }
    ggml_threadpool * batch = nullptr;
    if (n_threads_batch != n_threads) {
        ggml_threadpool_params batch_params = ggml_threadpool_params_default(n_threads_batch);
        batch = new_fn(&batch_params);
        if (batch == nullptr) {
            free_fn(gen);
            return nullptr;
        }
    }
    llama_attach_threadpool(ctx, gen, batch);
    return new threadpools{free_fn, gen, batch};
}

extern "C" void llamajava_threadpools_free(void * pools) {
    auto * p = static_cast<threadpools *>(pools);
    if (p == nullptr) {
        return;
    }
    if (p->batch != nullptr) {
        p->free_fn(p->batch);
    }
    p->free_fn(p->gen);
    delete p;
}
