// llama-server's /infill prompt formatting (format_prompt_infill in tools/server/server-common.cpp,
// compiled from the pinned source), as a command-line oracle for org.llamajava.Infill
// (InfillOracleTest). Reads one JSON request from a file:
//   {"input_prefix": "...", "input_suffix": "...", "input_extra": [{"filename": "...", "text": "..."}],
//    "prompt": "...", "n_batch": 2048, "n_predict": -1, "n_ctx": 4096, "spm_infill": false}
// loads MODEL vocabulary-only and prints the prompt's tokens as a JSON array. The prompt is
// tokenized as the /infill handler tokenizes a string prompt (no special tokens added, special
// tokens parsed).
#include "common.h"
#include "llama.h"
#include "server-common.h"

#include <cstdio>
#include <fstream>
#include <sstream>

int main(int argc, char ** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL REQUEST.json\n", argv[0]);
        return 2;
    }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::ifstream in(argv[2]);
    std::stringstream ss;
    ss << in.rdbuf();
    json data = json::parse(ss.str());
    std::string prompt = data.value("prompt", std::string());
    llama_tokens tokens_prompt = common_tokenize(vocab, prompt, false, true);
    llama_tokens out = format_prompt_infill(vocab, data.at("input_prefix"), data.at("input_suffix"),
            data.value("input_extra", json::array()), data.value("n_batch", 2048), data.value("n_predict", -1),
            data.value("n_ctx", 4096), data.value("spm_infill", false), tokens_prompt);
    json arr = out;
    printf("%s\n", arr.dump().c_str());
    llama_model_free(model);
    return 0;
}
