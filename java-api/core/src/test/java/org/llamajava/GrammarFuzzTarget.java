package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.llama_sampler;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.grammar.Grammar;
import org.llamajava.internal.Gbnf;

/**
 * Jazzer fuzz target for the GBNF checker, differential against llama.cpp's own grammar parser.
 * Each input (UTF-8) goes to {@link Grammar#gbnf(String)}:
 * <ul>
 *   <li>Java accepts: llama.cpp must accept it too (the grammar sampler is created through the
 *       shim, as {@link Sampler} does), and generating a few tokens under it must work; a
 *       rejection by llama.cpp is a finding ({@link Disagreement}), and so is any crash.
 *   <li>Java refuses, and says llama.cpp would too: llama.cpp's parser is asked as well, and an
 *       input it accepts is kept under {@code refused-accepted/} beside the input file (reported,
 *       not a finding). Inputs Java refuses where llama.cpp would misbehave
 *       ({@link Gbnf.Problem#stricterThanLlama()}, e.g. {@code x{5,3}}, on which it loops for
 *       ever) never reach native code.
 * </ul>
 * Run by {@code ci/fuzz.sh grammar} and {@link GrammarFuzzSmokeTest}; seeds from {@link GrammarFuzz}.
 */
public final class GrammarFuzzTarget {
    /** Java accepted a grammar that llama.cpp rejects (or fails on): a finding. */
    static final class Disagreement extends RuntimeException {
        Disagreement(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static Path input;
    private static Path refusedAccepted;
    private static Model model;
    private static Context context;
    private static int[] prompt;
    private static int seed;

    private GrammarFuzzTarget() {}

    /** Called once by Jazzer before the first input. */
    public static void fuzzerInitialize() {
        init(Path.of(System.getProperty("llama.fuzz.input", "fuzz-input.gbnf")));
    }

    /** Loads the model once; inputs are written to {@code inputFile}. */
    static synchronized void init(Path inputFile) {
        if (model != null) {
            return;
        }
        input = inputFile.toAbsolutePath();
        refusedAccepted = input.resolveSibling("refused-accepted");
        try {
            Files.createDirectories(refusedAccepted);
            Path m = Files.createTempFile("grammar-fuzz", ".gguf");
            m.toFile().deleteOnExit();
            new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(21).scale(3f).write(m);
            model = Model.load(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        context = model.createContext(ContextParams.builder().contextSize(64).batchSize(64).threads(1).build());
        prompt = model.vocabulary().tokenize("Once upon a time", true, true);
    }

    /** Called by Jazzer for every input. */
    public static void fuzzerTestOneInput(byte[] data) {
        try {
            Files.write(input, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run(new String(data, StandardCharsets.UTF_8));
    }

    /** One input; package-private so that findings can be replayed as tests. */
    static void run(String text) {
        Grammar g;
        try {
            g = Grammar.gbnf(text);
        } catch (Gbnf.Problem p) {
            if (!p.stricterThanLlama() && nativeAccepts(text)) {
                keepRefusedAccepted(text);
            }
            return;
        }
        // Java accepts: llama.cpp must too (token references are checked against the vocabulary first)
        llama_sampler s;
        try {
            s = GrammarStage.create(model.vocabulary(), g, new int[0]);
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith("llama.cpp rejected the grammar")) {
                throw new Disagreement("Java accepts a grammar llama.cpp rejects: " + e.getMessage(), e);
            }
            return; // a <token> that is not one token of this vocabulary, or an id outside it
        }
        llama_sampler_free(s);
        try (Sequence seq = context.newSequence(); Sampler sampler = Sampler.builder().grammar(g).dist(seed++).build(model)) {
            seq.generate(prompt, sampler, GenerateOptions.maxTokens(4));
        }
    }

    /** Whether llama.cpp's parser accepts the text (a grammar Java refused). */
    static boolean nativeAccepts(String text) {
        try (BytePointer t = new BytePointer(text, StandardCharsets.UTF_8);
             BytePointer root = new BytePointer("root", StandardCharsets.UTF_8);
             PointerPointer<BytePointer> pats = new PointerPointer<>(1);
             IntPointer toks = new IntPointer(1);
             PointerPointer<BytePointer> error = new PointerPointer<>(1)) {
            llama_sampler s = llamajava_sampler_init_grammar(model.vocabulary().nativeVocab(), t, root, false, pats, 0,
                    toks, 0, error);
            if (s == null || s.isNull()) {
                org.llamajava.internal.NativeStrings.takeError(error);
                return false;
            }
            llama_sampler_free(s);
            return true;
        }
    }

    private static void keepRefusedAccepted(String text) {
        try {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            Files.write(refusedAccepted.resolve(Integer.toHexString(java.util.Arrays.hashCode(b)) + ".gbnf"), b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
