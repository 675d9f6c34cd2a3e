/*
 * llama-java's native shim: the few things the Java API needs that llama.h does not offer as a
 * C function. Built by native/ (cmake/llama.cmake) into libllamajava and bound by JavaCPP.
 */
#ifndef LLAMAJAVA_H
#define LLAMAJAVA_H

#include <stdbool.h>
#include <stddef.h>

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

#ifdef __cplusplus
}
#endif

#endif
