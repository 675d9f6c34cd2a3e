#include "llamajava.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "chat.h"

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
