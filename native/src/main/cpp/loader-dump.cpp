// llamajava-loader-dump MODEL.gguf: loads a model vocab-only and writes llama.cpp's loader log
// (every metadata key with its type and value, tensor counts per type) to stderr as each line is
// logged. An oracle for the CLI's `inspect`: llama.cpp's own tools log through common's
// asynchronous logger, which may lose lines when the process exits; this callback writes
// synchronously, so the dump is complete every time.
#include <cstdio>

#include "llama.h"

static void write_log(ggml_log_level /*level*/, const char * text, void * /*user_data*/) {
    std::fputs(text, stderr);
}

int main(int argc, char ** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
        return 2;
    }
    llama_log_set(write_log, nullptr);
    llama_backend_init();
    llama_model_params params = llama_model_default_params();
    params.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], params);
    if (model == nullptr) {
        std::fprintf(stderr, "error: failed to load %s\n", argv[1]);
        llama_backend_free();
        return 1;
    }
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
