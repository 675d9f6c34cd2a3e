package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code llama-java inspect MODEL} agrees with what llama.cpp itself reads from the same file:
 * libllama's model loader (its metadata dump, via {@code llama-tokenize -v}) and, where Python with
 * numpy is available, the source tree's {@code gguf-py/gguf/scripts/gguf_dump.py}.
 */
class CliInspectTest {
    @TempDir
    Path tmp;

    /** inspect's stdout, parsed. */
    record Inspect(int version, int declaredKeys, Map<String, String> metadata, int declaredTensors,
            List<Tensor> tensors) {}

    record Tensor(String name, String type, List<Long> shape) {}

    private static final Pattern META_LINE = Pattern.compile("^  (\\S+) = (.*)$");
    private static final Pattern TENSOR_LINE = Pattern.compile("^  (\\S+)\\s+(\\S+)\\s+\\[(\\d+(?:, \\d+)*)\\]$");

    private Inspect inspect(Path model) {
        CliTestSupport.Result r = CliTestSupport.runCli(tmp.resolve("cli"), "inspect", model.toString());
        assertEquals(0, r.exitCode(), () -> "inspect failed\n" + r.describe());
        List<String> lines = r.stdout().lines().toList();
        Integer version = null;
        Integer keys = null;
        Integer tensorCount = null;
        Map<String, String> meta = new LinkedHashMap<>();
        List<Tensor> tensors = new ArrayList<>();
        for (String line : lines) {
            Matcher m;
            if (line.startsWith("version: ")) {
                version = Integer.parseInt(line.substring(9).strip());
            } else if (line.matches("metadata: \\d+ keys")) {
                keys = Integer.parseInt(line.split(" ")[1]);
            } else if (line.matches("tensors: \\d+")) {
                tensorCount = Integer.parseInt(line.split(" ")[1]);
            } else if (tensorCount == null && keys != null && (m = META_LINE.matcher(line)).matches()) {
                String previous = meta.put(m.group(1), m.group(2));
                assertEquals(null, previous, "metadata key listed twice: " + m.group(1));
            } else if (tensorCount != null && (m = TENSOR_LINE.matcher(line)).matches()) {
                tensors.add(new Tensor(m.group(1), m.group(2), Arrays.stream(m.group(3).split(", "))
                        .map(Long::parseLong).toList()));
            } else if (!line.startsWith("file: ") && !line.startsWith("alignment: ")) {
                fail("unexpected line in inspect output: '" + line + "'\n" + r.describe());
            }
        }
        assertNotNull(version, () -> "no 'version:' line\n" + r.describe());
        assertNotNull(keys, () -> "no 'metadata: N keys' line\n" + r.describe());
        assertNotNull(tensorCount, () -> "no 'tensors: N' line\n" + r.describe());
        assertEquals(keys.intValue(), meta.size(), () -> "'metadata: N keys' disagrees with the key lines\n"
                + r.describe());
        assertEquals(tensorCount.intValue(), tensors.size(), () -> "'tensors: N' disagrees with the tensor lines\n"
                + r.describe());
        return new Inspect(version, keys, meta, tensorCount, tensors);
    }

    /** The brief's fixed facts about stories260K, plus self-consistency. */
    @Test
    void storiesShowsArchitectureAndTokenEmbedding() {
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result r = CliTestSupport.runCli(tmp.resolve("cli"), "inspect", model.toString());
        assertEquals(0, r.exitCode(), () -> "inspect failed\n" + r.describe());
        assertTrue(r.stdout().lines().anyMatch(l -> l.strip().equals("general.architecture = \"llama\"")),
                () -> "no 'general.architecture = \"llama\"' line\n" + r.describe());
        assertTrue(r.stdout().lines().anyMatch(l -> l.matches("^\\s+token_embd\\.weight\\s+\\S+\\s+\\[\\d+(, \\d+)*\\]$")),
                () -> "token_embd.weight is not listed with a type and a shape\n" + r.describe());
        Inspect in = inspect(model);
        assertTrue(in.tensors().size() > 0, "no tensors listed");
    }

    /**
     * Counts, tensor types, scalar values, array lengths and token_embd's shape against libllama's
     * loader, which logs "loaded meta data with K key-value pairs and N tensors", one "- kv" line per
     * key and one "- type X: N tensors" line per tensor type.
     */
    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "llama-2-tiny-random.gguf"})
    void agreesWithLlamaModelLoader(String name) {
        Path model = CliTestSupport.model(name);
        Loader loader = loaderDump(model);
        Inspect in = inspect(model);

        assertEquals(loader.keys(), in.declaredKeys(), "metadata key count");
        assertEquals(loader.tensors(), in.declaredTensors(), "tensor count");
        Map<String, Integer> types = new TreeMap<>();
        for (Tensor t : in.tensors()) {
            types.merge(t.type().toLowerCase(Locale.ROOT), 1, Integer::sum);
        }
        assertEquals(loader.types(), types, "tensors per type");
        assertEquals(loader.kv().keySet(), in.metadata().keySet(), "metadata keys");
        for (Map.Entry<String, String[]> e : loader.kv().entrySet()) {
            checkValue(e.getKey(), e.getValue()[0], e.getValue()[1], in.metadata().get(e.getKey()));
        }
        assertEquals("\"llama\"", in.metadata().get("general.architecture"), "general.architecture");

        // token_embd.weight is [n_embd, n_vocab]
        String arch = loader.kv().get("general.architecture")[1];
        long nEmbd = Long.parseLong(loader.kv().get(arch + ".embedding_length")[1]);
        Matcher tokens = Pattern.compile("arr\\[str,(\\d+)\\]").matcher(loader.kv().get("tokenizer.ggml.tokens")[0]);
        assertTrue(tokens.matches(), "tokenizer.ggml.tokens type in the loader dump");
        long nVocab = Long.parseLong(tokens.group(1));
        Tensor embd = in.tensors().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst()
                .orElseThrow(() -> new AssertionError("token_embd.weight not listed"));
        assertEquals(List.of(nEmbd, nVocab), embd.shape(), "token_embd.weight shape");
    }

    private static void checkValue(String key, String type, String loaderValue, String shown) {
        String msg = "value of " + key + " (" + type + "): llama.cpp " + loaderValue + ", inspect " + shown;
        Matcher arr = Pattern.compile("arr\\[(\\w+),(\\d+)\\]").matcher(type);
        if (arr.matches()) {
            int n = Integer.parseInt(arr.group(2));
            assertTrue(shown.startsWith("[") && shown.endsWith("]"), msg);
            if (n > 8) {
                assertTrue(shown.endsWith(", ... (" + n + " items)]"), msg);
            }
            return;
        }
        switch (type) {
            case "str" -> {
                // the loader shortens long strings and shows control characters its own way
                if (loaderValue.length() < 100 && loaderValue.chars().allMatch(ch -> ch >= 0x20)) {
                    assertEquals("\"" + loaderValue + "\"", shown, msg);
                }
            }
            case "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64" -> assertEquals(loaderValue, shown, msg);
            case "bool" -> assertEquals(loaderValue, shown, msg);
            case "f32", "f64" -> {
                double a = Double.parseDouble(loaderValue);
                double b = Double.parseDouble(shown);
                // the loader prints %f: six decimals
                assertTrue(Math.abs(a - b) <= 1e-6 + 1e-6 * Math.abs(a), msg);
            }
            default -> fail("loader dump has an unknown type: " + msg);
        }
    }

    /** What libllama's loader logged about a file. */
    record Loader(int keys, int tensors, Map<String, String[]> kv, Map<String, Integer> types) {}

    private static final Pattern LOADED = Pattern.compile(
            "llama_model_loader: loaded meta data with (\\d+) key-value pairs and (\\d+) tensors");
    private static final Pattern KV = Pattern.compile("llama_model_loader: - kv\\s+\\d+:\\s+(\\S+)\\s+(\\S+)\\s+= (.*)$");
    private static final Pattern TYPE = Pattern.compile("llama_model_loader: - type\\s+(\\w+):\\s+(\\d+) tensors");

    /**
     * Loads the model vocab-only with libllama (the loader still dumps all metadata) through
     * llamajava-loader-dump, which writes libllama's log synchronously: llama.cpp's own tools log
     * through an asynchronous logger that may lose lines at exit, so parsing their output could
     * fail on a loaded machine.
     */
    private Loader loaderDump(Path model) {
        CliTestSupport.Result r = CliTestSupport.runTool("llamajava-loader-dump", tmp.resolve("loader"),
                model.toString());
        assertEquals(0, r.exitCode(), () -> "llamajava-loader-dump failed\n" + r.describe());
        Integer keys = null;
        Integer tensors = null;
        Map<String, String[]> kv = new LinkedHashMap<>();
        Map<String, Integer> types = new TreeMap<>();
        for (String line : r.stderr().lines().toList()) {
            Matcher m;
            if ((m = LOADED.matcher(line)).find()) {
                keys = Integer.parseInt(m.group(1));
                tensors = Integer.parseInt(m.group(2));
            } else if ((m = KV.matcher(line)).find()) {
                kv.put(m.group(1), new String[] {m.group(2), m.group(3)});
            } else if ((m = TYPE.matcher(line)).find()) {
                types.put(m.group(1).toLowerCase(Locale.ROOT), Integer.parseInt(m.group(2)));
            }
        }
        assertNotNull(keys, () -> "no 'loaded meta data' line in the loader dump\n" + r.describe());
        int typed = types.values().stream().mapToInt(Integer::intValue).sum();
        // GGUF.* pseudo keys are not in the dump; every real key is
        assertEquals(keys, kv.size(), () -> "keys in the loader dump\n" + r.describe());
        assertEquals(tensors, typed, () -> "tensors per type in the loader dump\n" + r.describe());
        return new Loader(keys, tensors, kv, types);
    }

    /** Every tensor (name, type, shape, order) and every key against llama.cpp's gguf_dump.py. */
    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "llama-2-tiny-random.gguf"})
    void agreesWithGgufDumpPy(String name) {
        Path model = CliTestSupport.model(name);
        Path script = CliTestSupport.llamaSource().resolve("gguf-py/gguf/scripts/gguf_dump.py");
        assertTrue(Files.isRegularFile(script), "gguf_dump.py not in the llama.cpp source tree: " + script);
        Path gguf = CliTestSupport.llamaSource().resolve("gguf-py");
        Map<String, String> env = Map.of("PYTHONPATH", gguf.toString(), "PYTHONDONTWRITEBYTECODE", "1");
        CliTestSupport.Result probe = CliTestSupport.run(List.of("python3", "-c", "import numpy"), env,
                tmp.resolve("probe"), Duration.ofSeconds(60));
        assumeTrue(probe.exitCode() == 0, "python3 with numpy is not available for gguf_dump.py");
        CliTestSupport.Result dump = CliTestSupport.run(List.of("python3", script.toString(), model.toString()), env,
                tmp.resolve("dump"), Duration.ofSeconds(120));
        assertEquals(0, dump.exitCode(), () -> "gguf_dump.py failed\n" + dump.describe());

        // "     4: STRING     |        1 | general.architecture = 'llama'"
        Pattern kvLine = Pattern.compile("^\\s*\\d+: (\\[?)(\\w+)\\]?\\s*\\|\\s*(\\d+) \\| (\\S+) = (.*)$");
        // "      1:     256000 |     8, 32000,     1,     1 | F16     | token_embd.weight"
        Pattern tensorLine = Pattern.compile("^\\s*\\d+:\\s+\\d+ \\|\\s*([\\d, ]+)\\| (\\w+)\\s*\\| (\\S+)$");
        Map<String, String> keys = new LinkedHashMap<>();
        List<Tensor> tensors = new ArrayList<>();
        for (String line : dump.stdout().lines().toList()) {
            Matcher m;
            if ((m = kvLine.matcher(line)).matches()) {
                keys.put(m.group(4), m.group(5));
            } else if ((m = tensorLine.matcher(line)).matches()) {
                tensors.add(new Tensor(m.group(3), m.group(2), trimOnes(Arrays.stream(m.group(1).split(","))
                        .map(String::strip).map(Long::parseLong).toList())));
            }
        }
        Inspect in = inspect(model);
        assertEquals(keys.get("GGUF.version"), Integer.toString(in.version()), "GGUF version");
        assertEquals(keys.get("GGUF.kv_count"), Integer.toString(in.declaredKeys()), "kv count");
        assertEquals(keys.get("GGUF.tensor_count"), Integer.toString(in.declaredTensors()), "tensor count");
        List<String> realKeys = keys.keySet().stream().filter(k -> !k.startsWith("GGUF.")).toList();
        assertEquals(realKeys, new ArrayList<>(in.metadata().keySet()), "metadata keys in file order");
        assertEquals(tensors.size(), in.tensors().size(), "tensor lines");
        for (int i = 0; i < tensors.size(); i++) {
            Tensor want = tensors.get(i);
            Tensor got = in.tensors().get(i);
            assertEquals(want.name(), got.name(), "tensor " + i + " name");
            assertEquals(want.type().toLowerCase(Locale.ROOT), got.type().toLowerCase(Locale.ROOT),
                    "type of " + want.name());
            assertEquals(want.shape(), trimOnes(got.shape()), "shape of " + want.name());
        }
    }

    /** gguf_dump pads shapes to 4 dims with 1s; compare without trailing 1s. */
    private static List<Long> trimOnes(List<Long> shape) {
        int n = shape.size();
        while (n > 1 && shape.get(n - 1) == 1L) {
            n--;
        }
        return shape.subList(0, n);
    }
}
