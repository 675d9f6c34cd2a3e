package org.llamajava;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;

/** Where the tests find llama.cpp's source tree, its tools, and the shared models. */
public final class TestSupport {
    private TestSupport() {}

    private static Properties build;

    public static synchronized Properties buildProperties() {
        if (build == null) {
            String p = System.getProperty("llama.build.properties");
            if (p == null) {
                fail("system property llama.build.properties is not set; run the tests through Maven");
            }
            Properties props = new Properties();
            try (InputStream in = Files.newInputStream(Path.of(p))) {
                props.load(in);
            } catch (IOException e) {
                fail("cannot read " + p + ": " + e);
            }
            props.setProperty("out.dir", Path.of(p).getParent().toString());
            build = props;
        }
        return build;
    }

    /** The pinned llama.cpp source tree (for its test data). */
    public static Path llamaSource() {
        return Path.of(buildProperties().getProperty("llama.source.dir"));
    }

    /** A llama.cpp tool built from the same source, e.g. {@code llama-simple}. */
    public static Path tool(String name) {
        return Path.of(buildProperties().getProperty("out.dir"), "bin", name);
    }

    /** A model from ../shared/models; skips the test if absent, unless the shared models are required. */
    public static Path sharedModel(String name) {
        String dir = System.getProperty("llama.models.dir", "../shared/models");
        Path p = Path.of(dir, name);
        if (!Files.isRegularFile(p)) {
            boolean required = Boolean.getBoolean("llama.require.shared") || "true".equals(System.getenv("CI"));
            if (required) {
                fail("required shared model is missing: " + p.toAbsolutePath());
            }
            assumeTrue(false, "shared model not present: " + p.toAbsolutePath());
        }
        return p;
    }

    /** Result of running a native tool. */
    public record Run(int exitCode, String stdout, String stderr) {}

    /** Runs a llama.cpp tool with its libraries on the library path. */
    public static Run runTool(String name, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(tool(name).toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("LD_LIBRARY_PATH", Path.of(buildProperties().getProperty("out.dir"), "lib").toString());
        Path err = Files.createTempFile("llama-tool", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(name + " timed out");
        }
        String e = Files.readString(err, StandardCharsets.UTF_8);
        Files.deleteIfExists(err);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), e);
    }

    /** A tiny vocabulary of common English pieces over byte fallback. */
    public static VocabularySpec tinyVocabulary() {
        return VocabularySpec.byteFallback(List.of("▁", "▁the", "▁a", "▁and", "▁to", "▁was", "▁she", "▁he",
                "▁Once", "▁upon", "▁time", "▁there", "▁little", "▁girl", "▁boy", "▁dog", "▁cat", "▁play",
                "▁day", "▁Lily", "▁Tom", "e", "t", "a", "o", "i", "n", "s", "h", "r", "d", "l", "u", ".", ",",
                "er", "in", "th", "he", "an", "re", "on", "at", "en", "nd"));
    }

    /** Writes the tiny random test model into {@code dir} and returns its path. */
    public static Path writeTinyModel(Path dir) {
        Path p = dir.resolve("tiny-random.gguf");
        new LlamaModelWriter(ModelShape.tiny(), tinyVocabulary()).seed(7).write(p);
        return p;
    }

    /**
     * Writes a tiny model whose byte-fallback vocabulary ({@code ▁ a b ab} and the bytes) lacks the byte
     * {@code c} and every piece holding it, so that a grammar needing "c" can be followed by no token;
     * returns its path ({@code dir/no-c.gguf}).
     */
    public static Path writeModelWithoutByteC(Path dir) {
        VocabularySpec full = VocabularySpec.byteFallback(List.of("▁", "a", "b", "ab"));
        int drop = full.tokens().indexOf("<0x63>");
        List<String> tokens = new ArrayList<>(full.tokens());
        tokens.remove(drop);
        float[] scores = new float[tokens.size()];
        int[] types = new int[tokens.size()];
        for (int i = 0, j = 0; i < full.tokens().size(); i++) {
            if (i != drop) {
                scores[j] = full.scores()[i];
                types[j++] = full.types()[i];
            }
        }
        Path p = dir.resolve("no-c.gguf");
        new LlamaModelWriter(ModelShape.tiny(), new VocabularySpec(tokens, scores, types, full.bos(), full.eos(),
                full.unk())).seed(3).write(p);
        return p;
    }

    /** stories260K from {@code ../shared/models} when it is there, else the tiny random model written into {@code dir}. */
    public static Path storiesOrTinyModel(Path dir) {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : writeTinyModel(dir);
    }

    /** Greedy with end-of-generation tokens banned, so that only a limit or a full slot ends a generation. */
    public static Sampler.Builder greedyWithoutEnd(Vocabulary v) {
        Sampler.Builder b = Sampler.builder().logitBias(v.eos(), Float.NEGATIVE_INFINITY);
        if (v.eot() != Vocabulary.NO_TOKEN) {
            b.logitBias(v.eot(), Float.NEGATIVE_INFINITY);
        }
        return b.greedy();
    }

    /**
     * llama-completion's greedy continuation of {@code prompt} ({@code n} tokens, one thread, a
     * 256-token context) with {@code flags} added, as text. llama.cpp's logger is asynchronous and
     * can drop the end of the output at exit: the run is repeated (up to 10 times) until its
     * output ends as a whole run's does (the text, "\n\n", and the perf report on stderr).
     */
    public static String llamaCompletionText(Path model, String prompt, int n, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("-m", model.toString(), "-p", prompt, "-n", Integer.toString(n),
                "--temp", "0", "--top-k", "1", "--seed", "1", "-t", "1", "-c", "256", "-no-cnv", "--no-display-prompt",
                "--simple-io", "--no-warmup"));
        args.addAll(List.of(flags));
        Run last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            Run r = runTool("llama-completion", args.toArray(String[]::new));
            if (r.exitCode() != 0) {
                fail("llama-completion failed\n" + r.stderr());
            }
            last = r;
            if (r.stdout().endsWith("\n\n") && r.stderr().contains("common_perf_print")) {
                String text = r.stdout().substring(0, r.stdout().length() - 2);
                String eot = " [end of text]\n";
                return text.endsWith(eot) ? text.substring(0, text.length() - eot.length()) : text;
            }
        }
        fail("llama-completion's output was cut short 10 times\n" + last.stdout() + "\n" + last.stderr());
        return null;
    }

    /** FIM prefix/suffix/middle/pad, and the repository-level tokens, as {@link #writeFimModel} adds them. */
    public static final List<String> FIM_TOKENS = List.of("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
            "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<|endoftext|>");

    /**
     * Writes the tiny shape with the byte-fallback test vocabulary plus {@link #FIM_TOKENS} (control
     * tokens; EOS the last), random weights (seed 3): a model that can do infill.
     */
    public static Path writeFimModel(Path p) {
        VocabularySpec base = tinyVocabulary();
        List<String> tokens = new ArrayList<>(base.tokens());
        int n = tokens.size() + FIM_TOKENS.size();
        float[] scores = new float[n];
        int[] types = new int[n];
        System.arraycopy(base.scores(), 0, scores, 0, base.tokens().size());
        System.arraycopy(base.types(), 0, types, 0, base.tokens().size());
        for (String s : FIM_TOKENS) {
            types[tokens.size()] = VocabularySpec.TYPE_CONTROL;
            tokens.add(s);
        }
        new LlamaModelWriter(ModelShape.tiny(), new VocabularySpec(tokens, scores, types, base.bos(), n - 1, base.unk()))
                .seed(3).scale(4f).write(p);
        return p;
    }
}
