/**
 * GGUF files without running them: {@link org.llamajava.gguf.GgufFile} reads metadata and the
 * tensor directory (and checks what llama.cpp would abort on), {@link org.llamajava.gguf.GgufWriter}
 * writes files, and {@link org.llamajava.gguf.LlamaModelWriter} writes random-weight llama models in
 * a given {@link org.llamajava.gguf.ModelShape} and {@link org.llamajava.gguf.VocabularySpec}, for
 * tests and benchmarks.
 */
package org.llamajava.gguf;
