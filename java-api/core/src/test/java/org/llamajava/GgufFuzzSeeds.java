package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.gguf_context;
import org.llamajava.bindings.gguf_init_params;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Writes the seed corpus and the libFuzzer dictionary for {@link GgufFuzzTarget}: two small
 * random llama models from {@link LlamaModelWriter} (8 wide, F32 and F16), and, when llama.cpp's source tree is given,
 * a shrunk copy of each of its {@code models/ggml-vocab-*.gguf} (all metadata kept, token arrays
 * cut to {@value #TOKENS} entries) so that every tokenizer family's loader is reached with inputs
 * of a few kilobytes. Nothing written here is committed: seeds are made anew for each run.
 *
 * <p>{@code GgufFuzzSeeds SEED_DIR DICT_FILE [LLAMA_SOURCE_DIR]}
 */
public final class GgufFuzzSeeds {
    static final int TOKENS = 384;

    private GgufFuzzSeeds() {}

    public static void main(String[] args) throws IOException {
        Path seeds = Files.createDirectories(Path.of(args[0]));
        Path dict = Path.of(args[1]);
        Path source = args.length > 2 ? Path.of(args[2]) : null;
        write(seeds, dict, source);
    }

    /** Writes the seeds into {@code seeds} and the dictionary into {@code dict}; returns the seeds. */
    static List<Path> write(Path seeds, Path dict, Path llamaSource) throws IOException {
        Files.createDirectories(seeds);
        List<Path> written = new ArrayList<>();
        Path micro = seeds.resolve("micro-llama-f32.gguf");
        new LlamaModelWriter(new ModelShape(8, 1, 2, 1, 16, 64), TestSupport.tinyVocabulary()).seed(3).write(micro);
        written.add(micro);
        Path micro2 = seeds.resolve("micro-llama-f16-2layers.gguf");
        new LlamaModelWriter(new ModelShape(8, 2, 2, 2, 16, 64), TestSupport.tinyVocabulary()).weightType(GgmlType.F16)
                .seed(5).write(micro2);
        written.add(micro2);
        Path models = llamaSource == null ? null : llamaSource.resolve("models");
        if (models != null && Files.isDirectory(models)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(models, "ggml-vocab-*.gguf")) {
                for (Path vocab : ds) {
                    Path out = seeds.resolve("shrunk-" + vocab.getFileName());
                    if (shrink(vocab, out, TOKENS)) {
                        written.add(out);
                    }
                }
            }
        }
        TreeSet<String> keys = new TreeSet<>();
        for (Path p : written) {
            keys.addAll(GgufFile.read(p).metadata().keySet());
            GgufFile.read(p).tensors().forEach(t -> keys.add(t.name()));
        }
        StringBuilder sb = new StringBuilder("# GGUF keys and tensor names of the seeds, for libFuzzer's -dict\n");
        sb.append("magic=\"GGUF\"\n");
        int i = 0;
        for (String k : keys) {
            sb.append("k").append(i++).append("=\"").append(k.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        }
        Files.writeString(dict, sb, StandardCharsets.UTF_8);
        return written;
    }

    private static final String[] ARRAYS = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
        "tokenizer.ggml.merges"};

    /** Copies every key of {@code in} into {@code out}, cutting the token arrays to {@code n} entries. */
    static boolean shrink(Path in, Path out, int n) {
        return rewrite(in, out, (src, dst) -> cutTokenArrays(src, dst, n));
    }

    /**
     * Writes the metadata of {@code in} (no tensors, so it loads vocab-only) to {@code out} after
     * {@code edit} changed it; {@code edit} gets the source and the copy.
     */
    static boolean rewrite(Path in, Path out, java.util.function.BiConsumer<gguf_context, gguf_context> edit) {
        Llama.init();
        gguf_context src;
        try (gguf_init_params params = new gguf_init_params()) {
            params.no_alloc(true).ctx(null);
            src = gguf_init_from_file(in.toString(), params);
        }
        if (src == null || src.isNull()) {
            return false;
        }
        gguf_context dst = gguf_init_empty();
        try {
            gguf_set_kv(dst, src);
            edit.accept(src, dst);
            return gguf_write_to_file(dst, out.toString(), false);
        } finally {
            gguf_free(dst);
            gguf_free(src);
        }
    }

    private static void cutTokenArrays(gguf_context src, gguf_context dst, int n) {
        for (String key : ARRAYS) {
            long id = gguf_find_key(src, key);
            if (id < 0) {
                continue;
            }
            long len = Math.min(n, gguf_get_arr_n(src, id));
            if (gguf_get_arr_type(src, id) == GGUF_TYPE_STRING) {
                try (PointerPointer<BytePointer> strs = new PointerPointer<>(len)) {
                    for (long i = 0; i < len; i++) {
                        strs.put(i, gguf_get_arr_str(src, id, i));
                    }
                    gguf_set_arr_str(dst, new BytePointer(key), strs, len);
                }
            } else {
                gguf_set_arr_data(dst, key, gguf_get_arr_type(src, id), gguf_get_arr_data(src, id), len);
            }
        }
        // special token ids must stay inside the shrunk vocabulary for the seed to be valid
        for (long k = 0; k < gguf_get_n_kv(dst); k++) {
            String key = gguf_get_key(dst, k).getString();
            if (key.startsWith("tokenizer.ggml.") && key.endsWith("_token_id") && gguf_get_kv_type(dst, k) == GGUF_TYPE_UINT32
                    && Integer.toUnsignedLong(gguf_get_val_u32(dst, k)) >= n) {
                gguf_set_val_u32(dst, key, n - 1);
            }
        }
    }
}
