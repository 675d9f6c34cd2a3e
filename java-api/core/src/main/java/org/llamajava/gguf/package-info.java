/**
 * GGUF files without running them: {@link org.llamajava.gguf.GgufFile} reads metadata and the
 * tensor directory (and checks what llama.cpp would abort on), {@link org.llamajava.gguf.GgufWriter}
 * writes files, and {@link org.llamajava.gguf.LlamaModelWriter} writes random-weight llama models in
 * a given {@link org.llamajava.gguf.ModelShape} and {@link org.llamajava.gguf.VocabularySpec}, for
 * tests and benchmarks. Bad files are a {@link org.llamajava.gguf.GgufException}. The package
 * sits below the root package {@code org.llamajava} (whose {@code Model} reads GGUF through it)
 * and uses nothing of it.
 */
package org.llamajava.gguf;
