package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quantize IN OUT TYPE [THREADS]} with llama-quantize's flags writes what llama-quantize
 * (same source) writes, byte for byte; bad input is a one-line error.
 */
class CliQuantizeTest {
    @TempDir
    static Path tmp;
    static Path input;

    @BeforeAll
    static void write() {
        input = tmp.resolve("in-f32.gguf");
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "write-model", "-o", input.toString(), "--shape",
                "256,2,4,2,512,512", "--type", "f32", "--seed", "3");
        assertEquals(0, r.exitCode(), r.describe());
    }

    @Test
    void writesWhatLlamaQuantizeWrites() throws Exception {
        Path expected = tmp.resolve("llama.gguf");
        CliTestSupport.Result q = CliTestSupport.runTool("llama-quantize", tmp, "--pure", "--output-tensor-type", "q8_0",
                input.toString(), expected.toString(), "Q4_K_M", "2");
        assertEquals(0, q.exitCode(), q.describe());
        Path actual = tmp.resolve("java.gguf");
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "quantize", "--pure", "--output-tensor-type", "q8_0",
                input.toString(), actual.toString(), "q4_k_m", "2");
        assertEquals(0, r.exitCode(), r.describe());
        assertEquals("", r.stdout());
        assertTrue(r.stderr().contains("as Q4_K_M"), r.stderr());
        assertEquals(-1L, Files.mismatch(expected, actual), "differs from llama-quantize's output");
        CliTestSupport.Result g = CliTestSupport.runCli(tmp, "generate", "-m", actual.toString(), "-p", "the", "-n", "4",
                "--temp", "0");
        assertEquals(0, g.exitCode(), g.describe());
    }

    @Test
    void badInputIsAOneLineError() {
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "quantize", input.toString(), tmp.resolve("o.gguf").toString(), "Q9");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().startsWith("error: unknown quantization type 'Q9'"), r.stderr());
        r = CliTestSupport.runCli(tmp, "quantize", tmp.resolve("missing.gguf").toString(), tmp.resolve("o.gguf").toString(), "Q8_0");
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().startsWith("error: model file not found"), r.stderr());
        r = CliTestSupport.runCli(tmp, "quantize", input.toString(), "Q8_0");
        assertEquals(2, r.exitCode(), r.describe());
        r = CliTestSupport.runCli(tmp, "quantize", "--output-tensor-type", "q9", input.toString(), tmp.resolve("o.gguf").toString(), "Q8_0");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("unknown output tensor type 'q9'"), r.stderr());
        assertTrue(!Files.exists(tmp.resolve("o.gguf")));
    }
}
