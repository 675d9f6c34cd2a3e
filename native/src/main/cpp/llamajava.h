/*
 * llama-java's native shim: the few things the Java API needs that llama.h does not offer as a
 * C function. Built by native/ (cmake/llama.cmake) into libllamajava and bound by JavaCPP.
 */
#ifndef LLAMAJAVA_H
#define LLAMAJAVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Renders chat messages into a prompt with the model's Jinja chat template (or the given one),
 * through llama.cpp's common chat API, as llama-server and llama-cli do.
 *
 * model:            the model whose template, BOS and EOS tokens are used (may be NULL when
 *                   template_source is given)
 * template_source:  a Jinja template to use instead of the model's, or NULL
 * bos, eos:         the BOS and EOS token texts the template sees instead of the model's, or NULL
 * roles, contents:  n messages
 * add_assistant:    end with the prompt for the assistant's reply
 * error:            on failure, set to a message to free with llamajava_free
 *
 * Returns the prompt (free with llamajava_free), or NULL on failure.
 */
char * llamajava_chat_apply(const struct llama_model * model, const char * template_source,
                            const char * bos, const char * eos, const char * const * roles, const char * const * contents, size_t n,
                            bool add_assistant, char ** error);

/*
 * JSON Schema to GBNF through llama.cpp's own converter (json_schema_to_grammar(schema, true), as
 * llama-server and llama-completion's --json-schema call it). schema_json is the schema as JSON
 * text. Returns the grammar (free with llamajava_free), or NULL with *error set (an unsupported
 * or invalid schema).
 */
char * llamajava_json_schema_to_grammar(const char * schema_json, char ** error);

/*
 * common_chat_templates_apply with tools and reasoning: renders messages with the model's Jinja
 * template (or template_source) and returns, as a JSON object, the prompt and everything needed
 * to sample and parse the reply (grammar, lazy flag, triggers, preserved tokens, additional stops,
 * generation prompt, thinking tags, format and the serialized parser).
 *
 * request_json: {"messages": [OpenAI-style messages], "tools": [OpenAI-style tools],
 *   "tool_choice": "auto"|"required"|"none", "parallel_tool_calls": bool,
 *   "reasoning_format": "none"|"auto"|"deepseek"|"deepseek-legacy", "enable_thinking": bool,
 *   "add_generation_prompt": bool, "json_schema": string, "grammar": string,
 *   "chat_template_kwargs": {name: JSON text}, "continue_final_message": "none"|"auto"|"reasoning"|"content",
 *   "add_bos": bool, "add_eos": bool, "now": seconds since the epoch}; every field is optional but messages.
 * Returns the JSON (free with llamajava_free), or NULL with *error set.
 */
char * llamajava_chat_templates_apply(const struct llama_model * model, const char * template_source,
                                      const char * bos, const char * eos, const char * request_json, char ** error);

/*
 * A parser of model output into content, reasoning and tool calls (common_chat_parse).
 * params_json: {"format": int, "reasoning_format": name, "reasoning_in_content": bool,
 *   "generation_prompt": string, "parse_tool_calls": bool, "is_continuation": bool, "echo": bool,
 *   "parser": the serialized parser llamajava_chat_templates_apply returned}.
 * Returns a handle for llamajava_chat_parser_parse (free with llamajava_chat_parser_free), or NULL
 * with *error set.
 */
void * llamajava_chat_parser_new(const char * params_json, char ** error);

/*
 * Parses text (partial: more may follow) into {"role", "content", "reasoning_content",
 * "tool_calls": [{"name", "arguments", "id"}]}. Returns the JSON (free with llamajava_free), or
 * NULL with *error set (e.g. complete output that does not match the format).
 */
char * llamajava_chat_parser_parse(void * parser, const char * text, bool partial, char ** error);

/* Frees a parser of llamajava_chat_parser_new (NULL is ignored). */
void llamajava_chat_parser_free(void * parser);

/*
 * llama_sampler_init_grammar (lazy: llama_sampler_init_grammar_lazy_patterns) with every C++
 * exception (e.g. an invalid trigger regex) turned into *error and a NULL result.
 */
struct llama_sampler * llamajava_sampler_init_grammar(const struct llama_vocab * vocab, const char * grammar,
                                                      const char * root, bool lazy, const char ** trigger_patterns,
                                                      size_t n_trigger_patterns, const int32_t * trigger_tokens,
                                                      size_t n_trigger_tokens, char ** error);

/*
 * Samples a token from the logits of batch row idx as llama.cpp's common sampler does with a
 * grammar: the chain picks a token; if the grammar rejects it, the grammar is applied to every
 * candidate and the chain picks again. The token is then accepted by the grammar and the chain.
 *
 * Returns the token; LLAMAJAVA_GRAMMAR_REJECTED_ALL when the grammar allows no candidate at all
 * (nothing is accepted); LLAMAJAVA_GRAMMAR_FAILED when the grammar could not accept the token (a
 * lazy grammar whose triggered text does not fit it): the grammar is then reset.
 */
#define LLAMAJAVA_GRAMMAR_REJECTED_ALL (-1)
#define LLAMAJAVA_GRAMMAR_FAILED (-2)
int32_t llamajava_sample_grammar(struct llama_sampler * chain, struct llama_sampler * grammar,
                                 struct llama_context * ctx, int32_t idx);

/*
 * Feeds n tokens to a grammar sampler as already generated (the chat's generation prompt that a
 * tool-call or output-format grammar starts with). Returns false with *error set if the grammar
 * does not accept them; the grammar is then reset.
 */
bool llamajava_grammar_accept(struct llama_sampler * grammar, const int32_t * tokens, size_t n, char ** error);

/*
 * llama.cpp's reasoning budget sampler (common_reasoning_budget_init in libcommon, as
 * llama-server's reasoning_budget uses it): from the start sequence on (or from the start, if
 * inside), after budget tokens without the end sequence, forces the forced tokens (a message and
 * the end sequence) one by one. A chain stage. Returns NULL with *error set on a C++ exception.
 */
struct llama_sampler * llamajava_reasoning_budget_init(const struct llama_vocab * vocab, const int32_t * start,
                                                       size_t n_start, const int32_t * end, size_t n_end,
                                                       const int32_t * forced, size_t n_forced, int32_t budget,
                                                       bool inside, char ** error);

/* Frees a string returned by this shim. */
void llamajava_free(void * p);

/*
 * An abort callback for llama_set_abort_callback that reads a flag instead of calling back
 * into Java: pass a pointer to an int32 as its data; a non-zero value aborts the decode.
 */
bool llamajava_abort_if_set(void * flag);

/* Installs llamajava_abort_if_set with this flag as ctx's abort callback (NULL removes it). */
void llamajava_set_abort_flag(struct llama_context * ctx, int * flag);

/*
 * Gives ctx persistent CPU thread pools, as llama-bench and llama-cli do: one of n_threads for
 * generation and, when n_threads_batch differs, one for batches. Without them ggml's CPU backend
 * (built without OpenMP) starts and joins its worker threads on every decode call, which costs a
 * small model a large share of its per-token time. Returns a handle for llamajava_threadpools_free,
 * to be called after llama_free(ctx), or NULL if the CPU backend offers no thread pools (ctx then
 * keeps ggml's per-call threads).
 */
void * llamajava_threadpools_attach(struct llama_context * ctx, int n_threads, int n_threads_batch);

/* Frees the thread pools of llamajava_threadpools_attach (NULL is ignored). */
void llamajava_threadpools_free(void * pools);

/*
 * The names of the CPU device's extra buffer types (what llama.cpp's --no-repack turns off: weight
 * repacking, "CPU_REPACK", and ggml's AMX kernels, "AMX"), comma-separated, into buf (size bytes,
 * NUL-terminated, cut to fit). Returns their number. ggml offers "AMX" only where the CPU backend
 * was built with AMX, the CPU has it and the kernel granted its tile state to the process.
 */
int llamajava_cpu_extra_buffer_types(char * buf, int size);

/* ==== RPC (llamajava_rpc.cpp): ggml's RPC backend through the backend registry ============ */

/* Whether this build has ggml's RPC backend (1) or not (0). */
int llamajava_rpc_available(void);

/*
 * Registers the devices of the RPC server at endpoint ("host:port") with ggml, as llama.cpp's
 * --rpc does; registering an endpoint again adds nothing. Returns the number of its devices, 0
 * if it has none or could not be asked, -1 without the RPC backend. The caller checks first
 * that the server answers: ggml aborts the process when it cannot connect.
 */
int llamajava_rpc_add_server(const char * endpoint);

/*
 * Serves the devices named in device_names (comma-separated ggml device names, e.g. "CPU") over
 * RPC at endpoint, with n_threads CPU threads and an optional tensor cache directory (NULL for
 * none); blocks while serving. Returns -1 without the RPC backend, -2 for an unknown device, -3
 * when the server stopped (it could not bind or accept).
 */
int llamajava_rpc_start_server(const char * endpoint, const char * cache_dir, int n_threads,
                               const char * device_names);

/*
 * ggml's RPC client ends the process (GGML_ABORT) when a server dies or answers garbage, on its
 * connection's dispatcher thread, while the thread that asked waits for that dispatcher forever.
 * This installs, once per process, a ggml abort callback that catches the aborts raised in
 * ggml-rpc.cpp: it records the message, counts the failure and parks the raising thread for
 * good, so the process lives on (the Java side runs every call that may reach a server on a
 * worker thread, notices the failure and gives up on that thread). Every other abort behaves as
 * before: the message on stderr, then abort(). Returns 1 once installed.
 */
int llamajava_rpc_guard_install(void);

/* How many RPC aborts the guard has caught in this process. */
int llamajava_rpc_guard_failures(void);

/* The message of the last RPC abort the guard caught ("" if none); copied into buf (size bytes). */
void llamajava_rpc_guard_message(char * buf, int size);

#ifdef __cplusplus
}
#endif

/* ---- issue 16 (model extensions): model-extensions.cpp ------------------------------------ */
#ifdef __cplusplus
extern "C" {
#endif

/*
 * llama_model_quantize with an importance matrix loaded as llama-quantize loads it (common's
 * imatrix loader: GGUF or legacy .dat; the quantize.imatrix.* metadata it adds to the output).
 * imatrix_file may be NULL or empty for none. Returns 0 on success; otherwise non-zero, with
 * *error set to a message to free with llamajava_free (or NULL).
 */
uint32_t llamajava_quantize(const char * fname_inp, const char * fname_out,
                            const struct llama_model_quantize_params * params,
                            const char * imatrix_file, char ** error);

#ifdef __cplusplus
}
#endif

#endif
