package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * llama.cpp's own tokenizer suite (tests/test-tokenizer-0.cpp): for every
 * {@code models/ggml-vocab-*.gguf} with {@code .inp}/{@code .out} files in the pinned source,
 * each input tokenizes (no special tokens added, none parsed) to exactly the expected ids.
 */
class TokenizerVectorsTest {
    private static final String SEP = "\n__ggml_vocab_test__\n";
    private static final List<Model> OPEN = new ArrayList<>();

    static List<Path> vocabFiles() throws IOException {
        try (Stream<Path> s = Files.list(TestSupport.llamaSource().resolve("models"))) {
            return s.filter(p -> p.getFileName().toString().matches("ggml-vocab-.*\\.gguf"))
                    .filter(p -> Files.exists(Path.of(p + ".inp")) && Files.exists(Path.of(p + ".out")))
                    .sorted().toList();
        }
    }

    @Test
    void theSuiteIsThere() throws IOException {
        // the pinned source ships at least 15 vocabularies with vectors; an empty list would pass vacuously
        assertTrue(vocabFiles().size() >= 15, "vocab files with vectors: " + vocabFiles());
    }

    @TestFactory
    Stream<DynamicContainer> everyVector() throws IOException {
        return vocabFiles().stream().map(vocab -> DynamicContainer.dynamicContainer(
                vocab.getFileName().toString(), vectors(vocab)));
    }

    private static Stream<DynamicTest> vectors(Path vocab) {
        List<String> inputs;
        List<int[]> expected;
        try {
            inputs = splitInputs(Files.readString(Path.of(vocab + ".inp"), StandardCharsets.UTF_8));
            expected = Files.readAllLines(Path.of(vocab + ".out"), StandardCharsets.UTF_8).stream()
                    .map(TokenizerVectorsTest::ids).toList();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        assertEquals(inputs.size(), expected.size(), "inputs vs outputs in " + vocab);
        assertFalse(inputs.isEmpty());
        Model model = Model.load(vocab, ModelParams.builder().vocabOnly(true).build());
        synchronized (OPEN) {
            OPEN.add(model);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String in = inputs.get(i);
            int[] want = expected.get(i);
            tests.add(DynamicTest.dynamicTest("#" + i + " " + abbreviate(in), () ->
                    assertArrayEquals(want, model.vocabulary().tokenize(in, false, false),
                            "tokens of '" + in + "'")));
        }
        return tests.stream();
    }

    @AfterAll
    static void closeModels() {
        synchronized (OPEN) {
            OPEN.forEach(Model::close);
            OPEN.clear();
        }
    }

    /** Splits as test-tokenizer-0.cpp does: no empty trailing input after a final separator. */
    static List<String> splitInputs(String raw) {
        List<String> out = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(SEP, pos);
            if (next < 0) {
                out.add(raw.substring(pos));
                break;
            }
            out.add(raw.substring(pos, next));
            pos = next + SEP.length();
        }
        return out;
    }

    private static int[] ids(String line) {
        String s = line.strip();
        return s.isEmpty() ? new int[0] : Stream.of(s.split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    private static String abbreviate(String s) {
        String one = s.replace("\n", "\\n").replace("\t", "\\t");
        return one.length() > 40 ? one.substring(0, 40) + "…" : one;
    }
}
