package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufWriter;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.internal.NativeState;

/**
 * Closing twice, closing in any order, leaving objects to the garbage collector, and a JVM that
 * returns from main with natives still loaded: none of it crashes, and what the Cleaner should
 * free is freed.
 */
class LifecycleTest {

    static final ContextParams PARAMS = ContextParams.builder().contextSize(64).batchSize(64).threads(1).build();

    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = TestSupport.writeTinyModel(tmp);
    }

    @Test
    void everyCloseIsIdempotent() {
        Model m = Model.load(model);
        Context ctx = m.createContext(PARAMS);
        Sequence seq = ctx.newSequence();
        Sampler s = Sampler.greedy();
        GgufWriter w = new GgufWriter();
        seq.append(m.vocabulary().tokenize("Once"));

        seq.close();
        seq.close();
        assertTrue(seq.isClosed());
        assertThrows(IllegalStateException.class, () -> seq.append(new int[] {5}));
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, s::reset);
        w.close();
        w.close();
        assertThrows(IllegalStateException.class, () -> w.putString("general.name", "x"));
        ctx.close();
        ctx.close();
        assertTrue(ctx.isClosed());
        assertThrows(IllegalStateException.class, () -> ctx.decode(new int[] {5}));
        assertThrows(IllegalStateException.class, ctx::newSequence);
        seq.close(); // after its context: still a no-op
        m.close();
        m.close();
        assertTrue(m.isClosed());
        assertThrows(IllegalStateException.class, m::vocabulary);
        ctx.close(); // after its model
    }

    @Test
    void closingAModelClosesItsContextsAndSequencesFirst() throws Exception {
        Model m = Model.load(model);
        Model other = Model.load(model);
        Context fresh = m.createContext(PARAMS);
        Context used = m.createContext(PARAMS);
        Context multi = m.createContext(ContextParams.builder().contextSize(128).sequences(2).threads(1).build());
        Context elsewhere = other.createContext(PARAMS);
        Sampler s = Sampler.greedy();
        int[] prompt = m.vocabulary().tokenize("Once upon a time");
        int[] expected = used.generate(prompt, s, 4, null).tokens();
        Sequence a = multi.newSequence();
        Sequence b = multi.newSequence();
        a.append(prompt);
        b.append(prompt);
        List<NativeState> states = List.of(state(fresh), state(used), state(multi));

        m.close();

        for (Context c : List.of(fresh, used, multi)) {
            assertTrue(c.isClosed());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.decode(new int[] {5}));
            assertTrue(e.getMessage().contains("Model was closed"), e.getMessage());
        }
        assertTrue(states.stream().allMatch(NativeState::isFreed), "the contexts' native memory was freed");
        assertTrue(a.isClosed() && b.isClosed());
        assertThrows(IllegalStateException.class, () -> a.append(new int[] {5}));
        assertThrows(IllegalStateException.class, b::fork);
        assertThrows(IllegalStateException.class, () -> m.createContext(PARAMS));
        // closing what the model already closed is a no-op, in any order
        a.close();
        multi.close();
        b.close();
        used.close();
        // the other model and the sampler are untouched
        assertFalse(elsewhere.isClosed());
        s.reset();
        assertArrayEquals(expected, elsewhere.generate(prompt, s, 4, null).tokens());
        other.close();
        assertTrue(elsewhere.isClosed());
        s.close();
    }

    /**
     * Models, contexts and samplers nobody closes are freed by the Cleaner once unreachable:
     * a model's file mapping disappears from /proc/self/maps, a context's or sampler's native state
     * reports itself freed (white box: the objects' {@code state} field), and creating hundreds of
     * them keeps the process's resident memory bounded.
     */
    @Test
    void unreachableModelsContextsAndSamplersAreFreedByTheCleaner() throws Exception {
        Path maps = Path.of("/proc/self/maps");
        assumeTrue(Files.isReadable(maps), "needs Linux's /proc");
        String file = model.toRealPath().toString();
        // models: each mmap()s the file
        long before = mappings(maps, file);
        List<Model> unclosed = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            unclosed.add(Model.load(model));
        }
        assertEquals(before + 30, mappings(maps, file), "30 open models map the file 30 times");
        unclosed = null; // never closed, now unreachable
        collectUntil(() -> mappings(maps, file) == before, "the unclosed models' mappings to go");
        assertEquals(before, mappings(maps, file));

        try (Model m = Model.load(model)) {
            // contexts and samplers: keep only their native states, not the objects
            List<NativeState> states = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Context c = m.createContext(PARAMS);
                c.decode(new int[] {1, 5, 6});
                Sampler s = Sampler.builder().topK(40).temperature(0.8f).dist(i).build();
                s.sample(c);
                states.add(state(c));
                states.add(state(s));
            }
            assertTrue(states.stream().noneMatch(NativeState::isFreed));
            collectUntil(() -> states.stream().allMatch(NativeState::isFreed), "20 contexts and samplers to be freed");

            // hundreds of unclosed contexts, each with its compute buffers allocated (about 1.6 MB):
            // never freed, 300 would take about 480 MB
            long rss0 = residentKb();
            for (int i = 0; i < 300; i++) {
                Context c = m.createContext(PARAMS);
                c.decode(new int[] {1, 5, 6});
                if (i % 25 == 24) {
                    System.gc();
                }
            }
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(50);
            }
            long grownMb = (residentKb() - rss0) / 1024;
            assertTrue(grownMb < 200, "resident memory grew by " + grownMb + " MB over 300 unclosed contexts");
            // the model still works after its contexts were freed behind its back
            try (Context c = m.createContext(PARAMS); Sampler s = Sampler.greedy()) {
                assertEquals(4, c.generate(m.vocabulary().tokenize("Once"), s, 4, null).tokens().length);
            }
        }
    }

    /** Objects used through chains that hold no reference while the native call runs: see LifecycleChild. */
    @Test
    void garbageCollectionDuringNativeCallsDoesNotFreeWhatIsInUse() throws Exception {
        // C1 compiles the methods after a few calls (compiled code keeps only the references it
        // still needs, interpreted code keeps all); glibc fills freed memory with 0xa5 so that a
        // use after free crashes instead of reading stale data
        Run r = child(Map.of("MALLOC_PERTURB_", "165"), "-XX:CompileThresholdScaling=0.05", "gc", model.toString(), "8");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().matches("(?s).*rounds [1-9][0-9]* bad 0.*"), r.output());
    }

    @Test
    void jvmExitsPromptlyAfterMainReturnsWithEverythingOpen() throws Exception {
        Run r = child(Map.of(), List.of(), "exit", model.toString());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("generated ["), r.output());
    }

    @Test
    void jvmExitsPromptlyAfterMainReturnsWithEverythingClosed() throws Exception {
        Run r = child(Map.of(), List.of(), "exit-closed", model.toString());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("generated ["), r.output());
    }

    /**
     * JavaCPP by default throws OutOfMemoryError on any allocation once resident memory passes four
     * times -Xmx; weights loaded without mmap are resident native memory. With a 16 MiB heap (a
     * 64 MiB limit) and a 70 MB model, loading and using it must still work, unless the
     * application itself set the limit, which is respected.
     */
    @Test
    void smallHeapWithLargeNativeMemory() throws Exception {
        Path big = tmp.resolve("no-mmap-70m.gguf");
        new LlamaModelWriter(new ModelShape(512, 5, 8, 8, 1536, 512), TestSupport.tinyVocabulary()).seed(3)
                .weightType(GgmlType.F32).write(big);
        assertTrue(Files.size(big) > 50L << 20, "model size " + Files.size(big));

        Run r = child(Map.of(), List.of("-Xmx16m"), "no-mmap", big.toString(), "3");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("no-mmap cycles 3 ok; maxPhysicalBytes 0,"), r.output());

        Run limited = child(Map.of(), List.of("-Xmx16m", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=64m"), "no-mmap",
                big.toString(), "3");
        assertTrue(limited.exit() != 0 && limited.output().contains("Physical memory usage is too high"),
                "the application's own limit was not kept: " + limited.output());
    }

    // ---- helpers ------------------------------------------------------------------------------------

    record Run(int exit, String output) {}

    /** Runs {@link LifecycleChild} in a new JVM on this test's class path; it must exit within 30 s. */
    static Run child(Map<String, String> env, String jvmOption, String... args) throws IOException, InterruptedException {
        return child(env, jvmOption == null ? List.of() : List.of(jvmOption), args);
    }

    /** Runs {@link LifecycleChild} in a new JVM with these JVM options; it must exit within 30 s. */
    static Run child(Map<String, String> env, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(LifecycleChild.class.getName());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "child", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()) // where a crash report would go
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        boolean exited = p.waitFor(30, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(exited, "the child JVM did not exit within 30 s: " + output);
        return new Run(p.exitValue(), output);
    }

    /** The native state behind a Model, Context or Sampler (each keeps it in a field named {@code state}). */
    static NativeState state(Object owner) throws ReflectiveOperationException {
        Field f = owner.getClass().getDeclaredField("state");
        f.setAccessible(true);
        return (NativeState) f.get(owner);
    }

    static long mappings(Path maps, String file) {
        try {
            return Files.readAllLines(maps).stream().filter(l -> l.endsWith(file)).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    /** Collects garbage (and lets the Cleaner run) until the condition holds, for at most 10 s. */
    static void collectUntil(BooleanSupplier done, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            System.gc();
            Thread.sleep(50);
        }
    }
}
