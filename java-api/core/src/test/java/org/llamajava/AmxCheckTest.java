package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build-time AMX check ({@code cmake/amx-check}) and the patch it guards
 * ({@code cmake/patches/0001-ggml-cpu-amx-keep-tile-config-stores.patch}): the natives were built from a
 * source with the patch applied, the check built with them passes, and the same check on ggml's
 * function without the patch finds the fault where the compiler has it (GCC 12, this project's
 * build compiler on Debian 12), so the check can fail.
 */
class AmxCheckTest {
    static final Path REPO = Path.of(System.getProperty("basedir", "."), "../..").toAbsolutePath().normalize();
    static final Path PATCH = REPO.resolve("cmake/patches/0001-ggml-cpu-amx-keep-tile-config-stores.patch");
    static final String MMQ = "ggml/src/ggml-cpu/amx/mmq.cpp";

    @TempDir
    Path tmp;

    /** The lines the patch adds, as the patch file has them. */
    static List<String> addedLines() throws Exception {
        return Files.readAllLines(PATCH).stream().filter(l -> l.startsWith("+") && !l.startsWith("+++"))
                .map(l -> l.substring(1)).toList();
    }

    @Test
    void theNativesAreBuiltFromThePatchedSource() throws Exception {
        String mmq = Files.readString(TestSupport.llamaSource().resolve(MMQ));
        List<String> added = addedLines();
        assertTrue(added.stream().anyMatch(l -> l.contains("__asm__ __volatile__(\"\" : : \"r\"(&tc) : \"memory\");")),
                "the patch adds the compiler barrier");
        assertTrue(mmq.contains(String.join("\n", added)), "the built source carries the patch");
    }

    @Test
    void theBuiltCheckPasses() throws Exception {
        Path check = TestSupport.tool("llamajava-amx-check");
        assumeTrue(Files.isExecutable(check), "no AMX check for this target (not x86-64 Linux)");
        TestSupport.Run r = TestSupport.runTool("llamajava-amx-check");
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stdout().contains(": complete"), r.stdout());
    }

    @Test
    void theCheckFindsTheFaultInTheUnpatchedFunction() throws Exception {
        assumeTrue(Files.isExecutable(TestSupport.tool("llamajava-amx-check")), "no AMX check for this target");
        String version = run(tmp, "c++", "-dumpfullversion", "-dumpversion").strip();
        // ggml's function as upstream has it: the patched source less the patch's lines
        String patched = Files.readString(TestSupport.llamaSource().resolve(MMQ));
        String unpatched = patched.replace(String.join("\n", addedLines()) + "\n", "");
        assertTrue(unpatched.length() < patched.length(), "the patch's lines were removed");
        Path src = tmp.resolve("mmq.cpp");
        Files.writeString(src, unpatched);
        Path build = tmp.resolve("build");
        run(tmp, "cmake", "-S", REPO.resolve("cmake/amx-check").toString(), "-B", build.toString(),
                "-DCMAKE_CXX_COMPILER=c++", "-DMMQ_SOURCE=" + src);
        run(tmp, "cmake", "--build", build.toString());
        for (String level : List.of("O2", "O3")) {
            Process p = new ProcessBuilder(build.resolve("llamajava-amx-check-" + level).toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            if (version.startsWith("12.")) {
                assertEquals(1, p.exitValue(), "GCC " + version + " drops the stores at -" + level + ": " + out);
                assertTrue(out.contains("INCOMPLETE") || out.contains("dropped"), out);
            } else {
                assertTrue(p.exitValue() == 0 || p.exitValue() == 1, out);
            }
        }
    }

    private static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir.toFile()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd) + " timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }
}
