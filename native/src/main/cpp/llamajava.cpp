#include "llamajava.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "chat.h"
#include "ggml-backend.h"
#include "ggml.h"
#include "json-schema-to-grammar.h"
#include "json.h"
#include "reasoning-budget.h"

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

static void set_error(char ** error, const std::string & message) {
    if (error != nullptr) {
        *error = dup_string(message);
    }
}

// Runs f, turning any C++ exception into *error and a NULL result: nothing crosses the C boundary.
template <typename F> static char * guarded(char ** error, const char * what, F f) {
    if (error != nullptr) {
        *error = nullptr;
    }
    try {
        return dup_string(f());
    } catch (const std::exception & e) {
        set_error(error, e.what());
    } catch (...) {
        set_error(error, std::string("unknown error in ") + what);
    }
    return nullptr;
}

extern "C" char * llamajava_json_schema_to_grammar(const char * schema_json, char ** error) {
    return guarded(error, "json_schema_to_grammar", [&]() {
        if (schema_json == nullptr) {
            throw std::invalid_argument("no schema");
        }
        return json_schema_to_grammar(common_json::parse(schema_json), true);
    });
}

static common_chat_continuation continuation_from_name(const std::string & name) {
    if (name == "none") {
        return COMMON_CHAT_CONTINUATION_NONE;
    }
    if (name == "auto") {
        return COMMON_CHAT_CONTINUATION_AUTO;
    }
    if (name == "reasoning") {
        return COMMON_CHAT_CONTINUATION_REASONING;
    }
    if (name == "content") {
        return COMMON_CHAT_CONTINUATION_CONTENT;
    }
    throw std::invalid_argument("unknown continue_final_message: " + name);
}

static common_json string_array(const std::vector<std::string> & values) {
    common_json out = common_json::array();
    for (const auto & v : values) {
        out.push_back(v);
    }
    return out;
}

static const char * trigger_type_name(common_grammar_trigger_type type) {
    switch (type) {
        case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN:        return "token";
        case COMMON_GRAMMAR_TRIGGER_TYPE_WORD:         return "word";
        case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN:      return "pattern";
        case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: return "pattern_full";
    }
    return "unknown";
}

extern "C" char * llamajava_chat_templates_apply(const struct llama_model * model, const char * template_source,
                                                 const char * bos, const char * eos, const char * request_json,
                                                 char ** error) {
    return guarded(error, "common_chat_templates_apply", [&]() {
        const std::string source = template_source != nullptr ? template_source : "";
        if (model == nullptr && source.empty()) {
            throw std::invalid_argument("no chat template: give a model or a template");
        }
        if (request_json == nullptr) {
            throw std::invalid_argument("no request");
        }
        const common_json req = common_json::parse(request_json);
        common_chat_templates_ptr tmpls = common_chat_templates_init(model, source, bos != nullptr ? bos : "",
                                                                     eos != nullptr ? eos : "");
        common_chat_templates_inputs inputs;
        inputs.use_jinja = true;
        inputs.messages = common_chat_msgs_parse_oaicompat(req.at("messages"));
        if (req.contains("tools")) {
            inputs.tools = common_chat_tools_parse_oaicompat(req.at("tools"));
        }
        if (req.contains("tool_choice")) {
            inputs.tool_choice = common_chat_tool_choice_parse_oaicompat(req.at("tool_choice").get<std::string>());
        }
        inputs.parallel_tool_calls = req.value("parallel_tool_calls", false);
        if (req.contains("reasoning_format")) {
            inputs.reasoning_format = common_reasoning_format_from_name(req.at("reasoning_format").get<std::string>());
        }
        inputs.enable_thinking       = req.value("enable_thinking", true);
        inputs.add_generation_prompt = req.value("add_generation_prompt", true);
        inputs.json_schema           = req.value("json_schema", std::string());
        inputs.grammar               = req.value("grammar", std::string());
        inputs.add_bos               = req.value("add_bos", false);
        inputs.add_eos               = req.value("add_eos", false);
        if (req.contains("continue_final_message")) {
            inputs.continue_final_message = continuation_from_name(req.at("continue_final_message").get<std::string>());
        }
        if (req.contains("chat_template_kwargs")) {
            for (const auto & kv : req.at("chat_template_kwargs").items()) {
                inputs.chat_template_kwargs[kv.key()] = kv.value().get<std::string>();
            }
        }
        if (req.contains("now")) {
            inputs.now = std::chrono::system_clock::time_point(std::chrono::seconds(req.at("now").get<int64_t>()));
        }
        const common_chat_params params = common_chat_templates_apply(tmpls.get(), inputs);

        common_json out = common_json::object();
        out["prompt"]            = params.prompt;
        out["format"]            = (int) params.format;
        out["format_name"]       = std::string(common_chat_format_name(params.format));
        out["grammar"]           = params.grammar;
        out["grammar_lazy"]      = params.grammar_lazy;
        out["generation_prompt"] = params.generation_prompt;
        out["supports_thinking"] = params.supports_thinking;
        out["thinking_start_tag"] = params.thinking_start_tag;
        out["thinking_end_tags"] = string_array(params.thinking_end_tags);
        common_json triggers = common_json::array();
        for (const auto & t : params.grammar_triggers) {
            triggers.push_back({ { "type", std::string(trigger_type_name(t.type)) }, { "value", t.value },
                                 { "token", (int64_t) t.token } });
        }
        out["grammar_triggers"] = triggers;
        out["preserved_tokens"] = string_array(params.preserved_tokens);
        out["additional_stops"] = string_array(params.additional_stops);
        out["parser"]           = params.parser;
        return out.dump();
    });
}

namespace {
struct chat_parser {
    common_chat_parser_params params;
};
}  // namespace

static common_json message_to_json(const common_chat_msg & msg) {
    common_json out = common_json::object();
    out["role"]              = msg.role;
    out["content"]           = msg.content;
    out["reasoning_content"] = msg.reasoning_content;
    common_json calls = common_json::array();
    for (const auto & tc : msg.tool_calls) {
        calls.push_back({ { "name", tc.name }, { "arguments", tc.arguments }, { "id", tc.id } });
    }
    out["tool_calls"] = calls;
    return out;
}

extern "C" void * llamajava_chat_parser_new(const char * params_json, char ** error) {
    if (error != nullptr) {
        *error = nullptr;
    }
    try {
        if (params_json == nullptr) {
            throw std::invalid_argument("no parser parameters");
        }
        const common_json req = common_json::parse(params_json);
        auto * p = new chat_parser();
        try {
            const int format = req.value("format", 0);
            if (format < 0 || format >= COMMON_CHAT_FORMAT_COUNT) {
                throw std::invalid_argument("unknown chat format " + std::to_string(format));
            }
            p->params.format = (common_chat_format) format;
            if (req.contains("reasoning_format")) {
                p->params.reasoning_format =
                    common_reasoning_format_from_name(req.at("reasoning_format").get<std::string>());
            }
            p->params.reasoning_in_content = req.value("reasoning_in_content", false);
            p->params.generation_prompt    = req.value("generation_prompt", std::string());
            p->params.parse_tool_calls     = req.value("parse_tool_calls", true);
            p->params.is_continuation      = req.value("is_continuation", false);
            p->params.echo                 = req.value("echo", false);
            const std::string parser       = req.value("parser", std::string());
            if (!parser.empty()) {
                p->params.parser.load(parser);
            }
        } catch (...) {
            delete p;
            throw;
        }
        return p;
    } catch (const std::exception & e) {
        set_error(error, e.what());
    } catch (...) {
        set_error(error, "unknown error while creating a chat parser");
    }
    return nullptr;
}

extern "C" char * llamajava_chat_parser_parse(void * parser, const char * text, bool partial, char ** error) {
    return guarded(error, "common_chat_parse", [&]() {
        if (parser == nullptr || text == nullptr) {
            throw std::invalid_argument("no parser or no text");
        }
        const auto * p = static_cast<const chat_parser *>(parser);
        return message_to_json(common_chat_parse(text, partial, p->params)).dump();
    });
}

extern "C" void llamajava_chat_parser_free(void * parser) {
    delete static_cast<chat_parser *>(parser);
}

extern "C" struct llama_sampler * llamajava_sampler_init_grammar(const struct llama_vocab * vocab,
                                                                 const char * grammar, const char * root, bool lazy,
                                                                 const char ** trigger_patterns,
                                                                 size_t n_trigger_patterns,
                                                                 const int32_t * trigger_tokens,
                                                                 size_t n_trigger_tokens, char ** error) {
    if (error != nullptr) {
        *error = nullptr;
    }
    try {
        llama_sampler * s = lazy ? llama_sampler_init_grammar_lazy_patterns(vocab, grammar, root, trigger_patterns,
                                                                           n_trigger_patterns, trigger_tokens,
                                                                           n_trigger_tokens)
                                 : llama_sampler_init_grammar(vocab, grammar, root);
        if (s == nullptr) {
            set_error(error, "llama.cpp rejected the grammar");
        }
        return s;
    } catch (const std::exception & e) {
        set_error(error, e.what());
    } catch (...) {
        set_error(error, "unknown error while creating the grammar sampler");
    }
    return nullptr;
}

extern "C" int32_t llamajava_sample_grammar(struct llama_sampler * chain, struct llama_sampler * grammar,
                                            struct llama_context * ctx, int32_t idx) {
    // the candidates, reused across calls on this thread (a context is single-threaded)
    thread_local std::vector<llama_token_data> cur;
    const float * logits = llama_get_logits_ith(ctx, idx);
    if (logits == nullptr) {
        return LLAMAJAVA_GRAMMAR_FAILED;
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(llama_get_model(ctx)));
    auto fill = [&]() {
        cur.resize(n_vocab);
        for (llama_token t = 0; t < n_vocab; t++) {
            cur[t] = llama_token_data{ t, logits[t], 0.0f };
        }
        return llama_token_data_array{ cur.data(), cur.size(), -1, false };
    };
    try {
        // 1. the chain alone, then check its choice against the grammar (common_sampler_sample)
        llama_token_data_array cur_p = fill();
        llama_sampler_apply(chain, &cur_p);
        llama_token id = cur_p.selected >= 0 && cur_p.selected < (int64_t) cur_p.size ? cur_p.data[cur_p.selected].id
                                                                                        : LLAMA_TOKEN_NULL;
        bool valid = false;
        if (id != LLAMA_TOKEN_NULL) {
            llama_token_data single = { id, 1.0f, 0.0f };
            llama_token_data_array single_p = { &single, 1, -1, false };
            llama_sampler_apply(grammar, &single_p);
            valid = single.logit != -INFINITY;
        }
        if (!valid) {
            // 2. the grammar over every candidate, then the chain again
            cur_p = fill();
            llama_sampler_apply(grammar, &cur_p);
            bool any = false;
            for (size_t i = 0; i < cur_p.size; i++) {
                if (cur_p.data[i].logit != -INFINITY) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return LLAMAJAVA_GRAMMAR_REJECTED_ALL;
            }
            llama_sampler_apply(chain, &cur_p);
            if (cur_p.selected < 0 || cur_p.selected >= (int64_t) cur_p.size ||
                cur_p.data[cur_p.selected].logit == -INFINITY) {
                return LLAMAJAVA_GRAMMAR_REJECTED_ALL;
            }
            id = cur_p.data[cur_p.selected].id;
        }
        llama_sampler_accept(grammar, id);
        llama_sampler_accept(chain, id);
        return id;
    } catch (...) {
        llama_sampler_reset(grammar);
        return LLAMAJAVA_GRAMMAR_FAILED;
    }
}

extern "C" bool llamajava_grammar_accept(struct llama_sampler * grammar, const int32_t * tokens, size_t n,
                                         char ** error) {
    if (error != nullptr) {
        *error = nullptr;
    }
    try {
        for (size_t i = 0; i < n; i++) {
            llama_sampler_accept(grammar, tokens[i]);
        }
        return true;
    } catch (const std::exception & e) {
        set_error(error, e.what());
    } catch (...) {
        set_error(error, "unknown error while feeding tokens to the grammar");
    }
    llama_sampler_reset(grammar);
    return false;
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

extern "C" struct llama_sampler * llamajava_reasoning_budget_init(const struct llama_vocab * vocab,
                                                                  const int32_t * start, size_t n_start,
                                                                  const int32_t * end, size_t n_end,
                                                                  const int32_t * forced, size_t n_forced,
                                                                  int32_t budget, bool inside, char ** error) {
    if (error != nullptr) {
        *error = nullptr;
    }
    try {
        llama_tokens s(start, start + n_start);
        llama_tokens e(end, end + n_end);
        llama_tokens f(forced, forced + n_forced);
        llama_sampler * r = common_reasoning_budget_init(vocab, { s }, { e }, f, budget,
                                                         inside ? REASONING_BUDGET_COUNTING : REASONING_BUDGET_IDLE);
        if (r == nullptr) {
            set_error(error, "llama.cpp could not create the reasoning budget sampler");
        }
        return r;
    } catch (const std::exception & ex) {
        set_error(error, ex.what());
    } catch (...) {
        set_error(error, "unknown error while creating the reasoning budget sampler");
    }
    return nullptr;
}

int llamajava_cpu_extra_buffer_types(char * buf, int size) {
    if (buf && size > 0) {
        buf[0] = '\0';
    }
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!cpu) {
        return 0;
    }
    typedef ggml_backend_buffer_type_t * (*get_extra_bufts_t)(ggml_backend_dev_t device);
    auto get = (get_extra_bufts_t) ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(cpu),
                                                                      "ggml_backend_dev_get_extra_bufts");
    if (!get) {
        return 0;
    }
    std::string names;
    int n = 0;
    for (ggml_backend_buffer_type_t * t = get(cpu); t && *t; t++, n++) {
        if (n > 0) {
            names += ",";
        }
        names += ggml_backend_buft_name(*t);
    }
    if (buf && size > 0) {
        std::snprintf(buf, (size_t) size, "%s", names.c_str());
    }
    return n;
}
