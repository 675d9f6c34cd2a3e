package org.llamajava.quantize;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.llama_model_quantize_params;
import org.llamajava.AbortSignal;
import org.llamajava.AbortedException;
import org.llamajava.Llama;
import org.llamajava.LlamaException;
import org.llamajava.gguf.GgufException;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.SplitFiles;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeLogLines;

/**
 * Quantizes a GGUF model with llama.cpp's {@code llama_model_quantize}, as {@code llama-quantize}
 * does with the same options (the output is byte-identical to llama-quantize's).
 *
 * <pre>{@code
 * Quantizer.builder(QuantizationType.Q4_K_M).threads(4).build()
 *         .quantize(Path.of("model-f16.gguf"), Path.of("model-q4_k_m.gguf"));
 * }</pre>
 *
 * <p>Progress is per tensor and the output's growth ({@link QuantizeListener}). Cancellation
 * ({@link Builder#abortSignal}) is coarse, because llama.cpp's quantization has no cancel hook: a
 * signal aborted before the run starts prevents it, and one aborted during the run lets llama.cpp
 * finish, then deletes the output and throws {@link AbortedException}; the native work itself is
 * not interrupted. Checked before llama.cpp sees anything: an unknown type (by name), a missing or
 * unreadable input, an input that is not a model (or a part of a split model that is missing), an
 * output that is the input or cannot be written, and a missing importance matrix.
 */
public final class Quantizer {
    /** The line llama.cpp's quantizer logs for each tensor: {@code [  3/ 21] blk.0.attn_q.weight - [...], ...}. */
    private static final java.util.regex.Pattern TENSOR_LINE =
            java.util.regex.Pattern.compile("\\[\\s*(\\d+)/\\s*(\\d+)\\]\\s+(\\S+)");
    private final QuantizationType type;
    private final int threads;
    private final boolean allowRequantize;
    private final boolean leaveOutputTensor;
    private final boolean pure;
    private final boolean keepSplit;
    private final String outputTensorType;
    private final String tokenEmbeddingType;
    private final Path imatrix;
    private final QuantizeListener listener;
    private final AbortSignal abort;

    private Quantizer(Builder b) {
        this.type = b.type;
        this.threads = b.threads;
        this.allowRequantize = b.allowRequantize;
        this.leaveOutputTensor = b.leaveOutputTensor;
        this.pure = b.pure;
        this.keepSplit = b.keepSplit;
        this.outputTensorType = b.outputTensorType;
        this.tokenEmbeddingType = b.tokenEmbeddingType;
        this.imatrix = b.imatrix;
        this.listener = b.listener;
        this.abort = b.abort;
    }

    /** A builder for this quantization type. */
    public static Builder builder(QuantizationType type) {
        return new Builder(type);
    }

    /** A builder for a llama-quantize type name, e.g. {@code "Q4_K_M"}; see {@link QuantizationType#parse}. */
    public static Builder builder(String type) {
        return new Builder(QuantizationType.parse(type));
    }

    /** The quantization type. */
    public QuantizationType type() {
        return type;
    }

    /**
     * Quantizes {@code input} (a model in one file, or the first part of a split model) into
     * {@code output}. With {@code keepSplit} the output has as many parts as the input, named as
     * llama-quantize names them: {@code output} without {@code .gguf}, plus {@code -00001-of-0000N.gguf}.
     *
     * @return the files written
     * @throws LlamaException if the input is missing or not a model, the output cannot be written, or
     *     llama.cpp fails (e.g. requantizing a quantized model without {@code allowRequantize})
     * @throws AbortedException if the abort signal was aborted
     */
    public List<Path> quantize(Path input, Path output) {
        if (input == null || output == null) {
            throw new IllegalArgumentException("input and output are required");
        }
        gguf(() -> {
            GgufFile.checkReadableGguf(input);
            return null;
        });
        Llama.init();
        GgufFile gguf = gguf(() -> GgufFile.read(input));
        if (gguf.architecture() == null) {
            throw new LlamaException(input.toAbsolutePath() + " is not a model (it has no general.architecture)");
        }
        List<Path> inputs = gguf(() -> SplitFiles.parts(input));
        Path out = output.toAbsolutePath();
        Path dir = out.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new LlamaException("cannot write " + out + ": the folder " + dir + " does not exist");
        }
        if (!Files.isWritable(dir) || (Files.exists(out) && (!Files.isRegularFile(out) || !Files.isWritable(out)))) {
            throw new LlamaException("cannot write " + out + ": not writable");
        }
        for (Path in : inputs) {
            try {
                if (Files.exists(out) && Files.isSameFile(in, out)) {
                    throw new LlamaException("input and output are the same file: " + out);
                }
            } catch (IOException e) {
                throw new LlamaException("cannot compare " + in + " and " + out + ": " + e.getMessage(), e);
            }
        }
        if (imatrix != null) {
            if (!Files.isRegularFile(imatrix) || !Files.isReadable(imatrix)) {
                throw new LlamaException("importance matrix file not found or not readable: " + imatrix.toAbsolutePath());
            }
        }
        int outputType = ggmlType(outputTensorType, "output tensor type");
        int embeddingType = ggmlType(tokenEmbeddingType, "token embedding type");
        // llama-quantize: with --keep-split, the output name loses its .gguf and the parts get -0000i-of-0000N.gguf
        String base = out.toString();
        List<Path> outputs = new ArrayList<>();
        if (keepSplit) {
            if (base.contains(".gguf")) {
                base = base.substring(0, base.length() - ".gguf".length());
            }
            for (int i = 1; i <= inputs.size(); i++) {
                outputs.add(Path.of(String.format(Locale.ROOT, "%s-%05d-of-%05d.gguf", base, i, inputs.size())));
            }
        } else {
            outputs.add(out);
        }
        if (abort != null && abort.isAborted()) {
            throw new AbortedException("quantization of " + input + " was cancelled before it started");
        }
        long inputBytes = 0;
        for (Path in : inputs) {
            inputBytes += size(in);
        }
        java.util.concurrent.ConcurrentLinkedQueue<String[]> tensors = new java.util.concurrent.ConcurrentLinkedQueue<>();
        AtomicInteger rc = new AtomicInteger(-1);
        AtomicReference<String> error = new AtomicReference<>();
        String target = base;
        Thread worker = new Thread(() -> {
            if (listener != null) {
                NativeLogLines.listen(line -> {
                    java.util.regex.Matcher m = TENSOR_LINE.matcher(line);
                    if (m.lookingAt()) {
                        tensors.add(new String[] {m.group(1), m.group(2), m.group(3)});
                    }
                });
            }
            try {
                run(input, target, outputType, embeddingType, rc, error);
            } finally {
                NativeLogLines.stop();
            }
        }, "llama-java-quantize");
        worker.setDaemon(true);
        worker.start();
        try {
            boolean interrupted = false;
            while (worker.isAlive()) {
                try {
                    worker.join(100);
                } catch (InterruptedException e) {
                    interrupted = true; // the native run cannot be stopped: wait for it, then report
                }
                if (listener != null) {
                    drain(tensors);
                    if (worker.isAlive()) {
                        listener.onProgress(written(outputs), inputBytes);
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        } catch (RuntimeException | Error e) {
            joinQuietly(worker);
            deleteQuietly(outputs);
            throw e;
        }
        if (rc.get() != 0) {
            deleteQuietly(outputs);
            throw new LlamaException("failed to quantize " + input.toAbsolutePath() + " to " + type
                    + (error.get() == null ? "" : ": " + error.get()));
        }
        if (abort != null && abort.isAborted()) {
            deleteQuietly(outputs);
            throw new AbortedException("quantization of " + input + " was cancelled (the output was deleted)");
        }
        if (listener != null) {
            drain(tensors);
            long total = written(outputs);
            listener.onProgress(total, inputBytes);
        }
        return List.copyOf(outputs);
    }

    private void drain(java.util.Queue<String[]> tensors) {
        String[] t;
        while ((t = tensors.poll()) != null) {
            listener.onTensor(Integer.parseInt(t[0]), Integer.parseInt(t[1]), t[2]);
        }
    }

    private void run(Path input, String output, int outputType, int embeddingType, AtomicInteger rc,
                     AtomicReference<String> error) {
        try (llama_model_quantize_params p = llama_model_quantize_default_params();
             BytePointer in = new BytePointer(input.toAbsolutePath().toString(), StandardCharsets.UTF_8);
             BytePointer out = new BytePointer(output, StandardCharsets.UTF_8);
             BytePointer im = imatrix == null ? null : new BytePointer(imatrix.toString(), StandardCharsets.UTF_8);
             PointerPointer<BytePointer> err = new PointerPointer<>(1)) {
            p.nthread(threads).ftype(type.ftype).allow_requantize(allowRequantize)
                    .quantize_output_tensor(!leaveOutputTensor).pure(pure).keep_split(keepSplit)
                    .only_copy(type == QuantizationType.COPY);
            if (outputType >= 0) {
                p.output_tensor_type(outputType);
            }
            if (embeddingType >= 0) {
                p.token_embedding_type(embeddingType);
            }
            NativeErrors.clear();
            int r = llamajava_quantize(in, out, p, im, err);
            if (r != 0) {
                BytePointer msg = err.get(BytePointer.class, 0);
                String m = msg == null || msg.isNull() ? null : msg.getString(StandardCharsets.UTF_8);
                if (msg != null && !msg.isNull()) {
                    llamajava_free(msg);
                }
                String logged = NativeErrors.suffix();
                error.set((m == null ? "llama_model_quantize failed" : m) + logged);
            }
            rc.set(r);
        } catch (RuntimeException | Error e) {
            error.set(e.toString());
            rc.set(1);
        }
    }

    /** A ggml type by its name as ggml names it ({@code q8_0}, {@code f16}, ignoring case), or -1 for none. */
    static int ggmlType(String name, String what) {
        if (name == null) {
            return -1;
        }
        Llama.init();
        List<String> known = new ArrayList<>();
        for (int i = 0; i < GGML_TYPE_COUNT; i++) {
            BytePointer n = ggml_type_name(i);
            if (n == null || n.isNull()) {
                continue;
            }
            String s = n.getString(StandardCharsets.UTF_8);
            if (s.equalsIgnoreCase(name)) {
                return i;
            }
            if (ggml_blck_size(i) > 0 && !s.startsWith("DEPRECATED")) {
                known.add(s);
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + name + "'; ggml's types: " + String.join(", ", known));
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long written(List<Path> outputs) {
        long n = 0;
        for (Path p : outputs) {
            if (Files.exists(p)) {
                n += size(p);
            }
        }
        return n;
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(List<Path> outputs) {
        for (Path p : outputs) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** Options with llama-quantize's meaning. */
    public static final class Builder {
        private final QuantizationType type;
        private int threads;
        private boolean allowRequantize;
        private boolean leaveOutputTensor;
        private boolean pure;
        private boolean keepSplit;
        private String outputTensorType;
        private String tokenEmbeddingType;
        private Path imatrix;
        private QuantizeListener listener;
        private AbortSignal abort;

        private Builder(QuantizationType type) {
            if (type == null) {
                throw new IllegalArgumentException("type is null");
            }
            this.type = type;
        }

        /** Threads (0, the default: as many as the machine has). */
        public Builder threads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0 (0: all cores), not " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** {@code --allow-requantize}: allow quantizing tensors that are already quantized. */
        public Builder allowRequantize(boolean allow) {
            this.allowRequantize = allow;
            return this;
        }

        /** {@code --leave-output-tensor}: leave {@code output.weight} unquantized. */
        public Builder leaveOutputTensor(boolean leave) {
            this.leaveOutputTensor = leave;
            return this;
        }

        /** {@code --pure}: every tensor in the type's base type, without the k-quant mixtures. */
        public Builder pure(boolean pure) {
            this.pure = pure;
            return this;
        }

        /** {@code --keep-split}: as many output parts as the input has. */
        public Builder keepSplit(boolean keepSplit) {
            this.keepSplit = keepSplit;
            return this;
        }

        /** {@code --output-tensor-type}: the ggml type of {@code output.weight}, e.g. {@code q8_0}. */
        public Builder outputTensorType(String ggmlType) {
            ggmlType(ggmlType, "output tensor type");
            this.outputTensorType = ggmlType;
            return this;
        }

        /** {@code --token-embedding-type}: the ggml type of {@code token_embd.weight}. */
        public Builder tokenEmbeddingType(String ggmlType) {
            ggmlType(ggmlType, "token embedding type");
            this.tokenEmbeddingType = ggmlType;
            return this;
        }

        /**
         * {@code --imatrix}: an importance matrix file ({@code llama-imatrix}'s GGUF or legacy
         * {@code .dat}), loaded as llama-quantize loads it; its name is recorded in the output's
         * {@code quantize.imatrix.file} as given here.
         */
        public Builder importanceMatrix(Path file) {
            this.imatrix = file;
            return this;
        }

        /** Progress reports (see {@link QuantizeListener}). */
        public Builder listener(QuantizeListener listener) {
            this.listener = listener;
            return this;
        }

        /** Cancellation, with the granularity described at {@link Quantizer}. */
        public Builder abortSignal(AbortSignal signal) {
            this.abort = signal;
            return this;
        }

        public Quantizer build() {
            return new Quantizer(this);
        }
    }

    /** Runs a read of GGUF files, reporting a {@link GgufException} as the {@link LlamaException} callers get. */
    private static <T> T gguf(java.util.function.Supplier<T> read) {
        try {
            return read.get();
        } catch (GgufException e) {
            throw new LlamaException(e.getMessage(), e);
        }
    }
}
