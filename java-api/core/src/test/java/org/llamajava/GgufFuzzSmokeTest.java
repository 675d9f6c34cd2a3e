package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short fuzzing run of GGUF loading in CI ({@link GgufFuzz}, Jazzer in a child JVM): it must
 * execute inputs and find nothing. The budget is {@code -Dllama.fuzz.smoke.seconds} (default
 * 30); {@code ci/fuzz.sh} runs the same for as long as asked.
 */
class GgufFuzzSmokeTest {
    @TempDir
    Path dir;

    @Test
    void shortFuzzRunFindsNothing() throws Exception {
        long seconds = Long.getLong("llama.fuzz.smoke.seconds", 30);
        GgufFuzz.Report r = GgufFuzz.run(dir, seconds, TestSupport.llamaSource());
        System.out.println("fuzz smoke: " + seconds + " s, " + r);
        assertTrue(r.executions() > 100, "the fuzzer ran too few inputs: " + r);
        assertTrue(r.corpus() > 0, "no corpus: " + r);
        assertTrue(r.clean(), "fuzzing found something (see the logs and findings under " + dir + "): " + r);
    }
}
