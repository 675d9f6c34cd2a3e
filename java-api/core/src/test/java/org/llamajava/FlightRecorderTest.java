package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;
import org.llamajava.batch.EngineStats;
import org.llamajava.grammar.Grammar;

/**
 * llama-java's JDK Flight Recorder events, read back from a recording with
 * {@code jdk.jfr.consumer}: their counts agree with what the API itself reports (the tokenizer's
 * prompt length, each {@link Completion}, the engine's {@link EngineStats}); and a decode makes
 * no event object, so allocates nothing, while no recording has the decode event on.
 */
class FlightRecorderTest {
    static final List<String> EVENTS = List.of("org.llamajava.ModelLoad", "org.llamajava.ContextCreate",
            "org.llamajava.Decode", "org.llamajava.Generation", "org.llamajava.PromptCache",
            "org.llamajava.GrammarRejection", "org.llamajava.Speculation", "org.llamajava.RpcCall");

    @TempDir
    Path tmp;

    /** Starts a recording of {@code events}; llama-java's others are off (a custom event is on by default). */
    static Recording start(List<String> events) {
        Recording r = new Recording();
        for (String e : EVENTS) {
            if (events.contains(e)) {
                r.enable(e).withThreshold(Duration.ZERO);
            } else {
                r.disable(e);
            }
        }
        r.start();
        return r;
    }

    /** Stops the recording and reads back llama-java's events, by name, in the order they were committed. */
    List<RecordedEvent> stop(Recording r) throws Exception {
        r.stop();
        Path file = Files.createTempFile(tmp, "rec", ".jfr");
        r.dump(file);
        r.close();
        List<RecordedEvent> all = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().startsWith("org.llamajava.")) {
                all.add(e);
            }
        }
        all.sort((a, b) -> a.getStartTime().compareTo(b.getStartTime()));
        return all;
    }

    static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals("org.llamajava." + name))
                .collect(Collectors.toList());
    }

    @Test
    void aSequenceGenerationRecordsItsLoadContextDecodesAndGeneration() throws Exception {
        Path model = TestSupport.writeTinyModel(tmp);
        Recording rec = start(EVENTS);
        int[] prompt;
        Completion c;
        int contextSize;
        List<String> loadedDevices;
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).threads(1).build());
             Sequence seq = ctx.newSequence();
             Sampler greedy = Sampler.greedy()) {
            prompt = m.vocabulary().tokenize("Once upon a time the little girl");
            contextSize = ctx.contextSize();
            loadedDevices = m.devices();
            c = seq.generate(prompt, greedy, GenerateOptions.maxTokens(10));
        }
        List<RecordedEvent> events = stop(rec);

        List<RecordedEvent> loads = named(events, "ModelLoad");
        assertEquals(1, loads.size(), "one model load: " + events);
        assertEquals(model.toString(), loads.get(0).getString("file"));
        assertEquals(Files.size(model), loads.get(0).getLong("size"));
        assertEquals(1, loads.get(0).getInt("parts"));
        assertTrue(loads.get(0).getBoolean("succeeded"));
        if (!Llama.hasGpu()) {
            assertEquals(List.of(), loadedDevices, "no GPU device here: the CPU alone");
        }
        assertEquals(String.join(", ", java.util.stream.Stream.concat(java.util.stream.Stream.of("CPU"),
                loadedDevices.stream()).toList()), loads.get(0).getString("devices"), "the model's devices");

        List<RecordedEvent> contexts = named(events, "ContextCreate");
        assertEquals(1, contexts.size());
        assertEquals(contextSize, contexts.get(0).getInt("contextSize"));
        assertEquals(1, contexts.get(0).getInt("sequences"));

        List<RecordedEvent> generations = named(events, "Generation");
        assertEquals(1, generations.size());
        RecordedEvent g = generations.get(0);
        assertEquals("sequence", g.getString("runner"));
        assertEquals(prompt.length, g.getInt("promptTokens"), "the tokenizer's prompt length");
        assertEquals(0, g.getInt("reusedTokens"));
        assertEquals(c.tokenCount(), g.getInt("generatedTokens"));
        assertTrue(c.tokenCount() > 1, c.toString());
        assertEquals(c.finishReason().name(), g.getString("finishReason"));
        long ttft = g.getLong("timeToFirstToken");
        assertTrue(ttft > 0 && ttft <= g.getDuration().toNanos(), "TTFT " + ttft + " within " + g.getDuration());

        // the prompt in one decode, then each generated token but the last (which ends it) fed back
        List<RecordedEvent> decodes = named(events, "Decode");
        assertEquals(1 + c.tokenCount() - 1, decodes.size(), "decodes: " + decodes);
        assertEquals(prompt.length, decodes.get(0).getInt("tokens"));
        int tokens = 0;
        for (RecordedEvent d : decodes) {
            tokens += d.getInt("tokens");
            assertEquals(1, d.getInt("sequences"));
            assertEquals(1, d.getInt("outputs"));
            assertEquals(0, d.getInt("result"));
        }
        assertEquals(prompt.length + c.tokenCount() - 1, tokens);
        assertEquals(List.of(), named(events, "RpcCall"), "no RPC servers");
    }

    @Test
    void theEnginesEventsAgreeWithItsStatistics() throws Exception {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            int[] a = m.vocabulary().tokenize("Once upon a time there was a little girl named Lily who liked to play", true, true);
            int[] b = m.vocabulary().tokenize("The big brown dog ran across the green field to find his friend", true, true);
            Recording rec = start(EVENTS);
            List<Completion> done = new ArrayList<>();
            EngineStats stats;
            try (BatchEngine e = BatchEngine.start(m, EngineParams.builder().slots(1).contextSize(256).threads(1).build())) {
                for (int[] p : List.of(a, b, a)) { // b takes A's slot (A's cache is saved); A comes back
                    done.add(e.submit(new BatchRequest(p, Sampler.builder().greedy(), GenerateOptions.maxTokens(6)))
                            .completion().join());
                }
                stats = e.stats();
            }
            List<RecordedEvent> events = stop(rec);
            List<RecordedEvent> generations = named(events, "Generation");
            assertEquals(3, generations.size());
            for (int i = 0; i < 3; i++) {
                RecordedEvent g = generations.get(i);
                Completion c = done.get(i);
                assertEquals("engine", g.getString("runner"));
                assertEquals(c.promptTokens(), g.getInt("promptTokens"), "request " + i);
                assertEquals(c.cachedTokens(), g.getInt("reusedTokens"), "request " + i);
                assertEquals(c.tokenCount(), g.getInt("generatedTokens"), "request " + i);
                assertEquals(c.finishReason().name(), g.getString("finishReason"));
                long ttft = g.getLong("timeToFirstToken");
                assertTrue(ttft > 0 && ttft <= g.getDuration().toNanos(), "TTFT " + ttft + " within " + g.getDuration());
            }
            assertTrue(done.get(2).cachedTokens() > 0, "the third request reused A's restored cache");
            assertEquals(stats.decodes(), named(events, "Decode").size(), stats.toString());
            long decoded = named(events, "Decode").stream().mapToLong(d -> d.getInt("tokens")).sum();
            // every prompt token evaluated, and every generated token but each request's last fed back
            assertEquals(stats.promptTokensEvaluated() + stats.tokensGenerated() - stats.completed(), decoded);
            List<RecordedEvent> restores = named(events, "PromptCache").stream()
                    .filter(e -> e.getString("operation").equals("restore") && e.getBoolean("succeeded"))
                    .collect(Collectors.toList());
            assertEquals(stats.promptCacheRestores(), restores.size(), stats.toString());
            assertEquals(1, restores.size());
            assertEquals(a.length, restores.get(0).getInt("tokens") - 6 + 1, "A's prompt and its reply but the last token");
            assertTrue(named(events, "PromptCache").stream().anyMatch(e -> e.getString("operation").equals("save")
                    && e.getBoolean("succeeded") && e.getLong("size") > 0));
        }
    }

    @Test
    void speculationAndGrammarRejectionAreRecorded() throws Exception {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            Recording rec = start(List.of("org.llamajava.Speculation"));
            Completion c;
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(512).threads(1).build());
                 Sequence seq = ctx.newSequence();
                 Sampler greedy = Sampler.greedy();
                 Speculation spec = Speculation.draftModel(m, SpeculationParams.builder().draftMax(6).pMin(0f)
                         .draftThreads(1).draftContextSize(128).build())) {
                c = seq.generate(m.vocabulary().tokenize("Once upon a time"), greedy,
                        GenerateOptions.builder().maxTokens(40).speculation(spec).build());
            }
            List<RecordedEvent> steps = named(stop(rec), "Speculation");
            assertTrue(c.draftedTokens() > 0, c.toString());
            assertEquals(c.draftedTokens(), steps.stream().mapToInt(e -> e.getInt("drafted")).sum());
            assertEquals(c.acceptedTokens(), steps.stream().mapToInt(e -> e.getInt("accepted")).sum());
        }

        // a vocabulary without "c" and a grammar that needs it (as GrammarTest)
        Path p = TestSupport.writeModelWithoutByteC(tmp);
        try (Model m = Model.load(p);
             Context ctx = m.createContext(ContextParams.builder().contextSize(128).threads(1).build());
             Sequence seq = ctx.newSequence();
             Sampler s = Sampler.builder().greedy().grammar(Grammar.gbnf("root ::= \"ab\" \"c\"")).build(m)) {
            Recording rec = start(List.of("org.llamajava.GrammarRejection", "org.llamajava.Generation"));
            Completion c = seq.generate(m.vocabulary().tokenize("ab"), s, GenerateOptions.maxTokens(8));
            List<RecordedEvent> events = stop(rec);
            assertEquals(FinishReason.GRAMMAR_REJECTED, c.finishReason());
            List<RecordedEvent> rejected = named(events, "GrammarRejection");
            assertEquals(1, rejected.size());
            assertEquals(c.tokenCount(), rejected.get(0).getInt("generatedTokens"));
            assertEquals("GRAMMAR_REJECTED", named(events, "Generation").get(0).getString("finishReason"));
        }
    }

    /** Bytes the current thread allocates while decoding {@code n} single tokens after {@code from}. */
    static long allocatedDecoding(Decoder d, int from, int n) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(id);
        for (int i = from; i < from + n; i++) {
            d.add(0, 5 + i % 50, i, true);
            if (d.decode() != 0) {
                throw new AssertionError("decode failed at " + i);
            }
        }
        return mx.getThreadAllocatedBytes(id) - before;
    }

    /** Bytes per decode, over {@code n} decodes after 100 to warm up, while {@code events} are recorded (null: no recording). */
    static long perDecode(Decoder d, int[] pos, List<String> events, int n) {
        Recording rec = events == null ? null : start(events);
        try {
            allocatedDecoding(d, pos[0], 100); // the first check after a recording starts looks the event types up
            long bytes = allocatedDecoding(d, pos[0] + 100, n);
            return bytes / n;
        } finally {
            pos[0] += 100 + n;
            if (rec != null) {
                rec.stop();
                rec.close();
            }
        }
    }

    /**
     * Measures bytes per decode in this JVM (run as a child by the test below): with no recording,
     * one of llama-java's other events, and one of the decode event. Prints them as
     * {@code off other on}.
     */
    public static void main(String[] args) {
        int n = 200;
        try (Model m = Model.load(Path.of(args[0]));
             Context ctx = m.createContext(ContextParams.builder().contextSize(2048).threads(1).build())) {
            Decoder d = ctx.decoder();
            int[] pos = {0};
            long off = perDecode(d, pos, null, n);
            List<String> others = new ArrayList<>(EVENTS);
            others.remove("org.llamajava.Decode");
            long other = perDecode(d, pos, others, n);
            long on = perDecode(d, pos, List.of("org.llamajava.Decode"), n);
            System.out.println("bytes per decode: " + off + " " + other + " " + on);
        }
    }

    /**
     * In a JVM without escape analysis (which could otherwise hide an event object made and
     * dropped in the same method): with no recording, and with a recording of every llama-java
     * event but the decode event, a decode allocates nothing; and, so that the measure is shown to
     * see one, with the decode event on it allocates at least an event object per decode.
     */
    @Test
    void aDecodeAllocatesNothingWhileTheDecodeEventIsOff() throws Exception {
        Path model = TestSupport.writeTinyModel(tmp);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-DoEscapeAnalysis", "-cp", System.getProperty("java.class.path"),
                FlightRecorderTest.class.getName(), model.toString());
        Path out = Files.createTempFile(tmp, "child", ".out");
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        boolean exited = p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        String output = Files.readString(out);
        assertTrue(exited && p.exitValue() == 0, "the child JVM failed: " + output);
        java.util.regex.Matcher r = java.util.regex.Pattern.compile("bytes per decode: (\\d+) (\\d+) (\\d+)")
                .matcher(output);
        assertTrue(r.find(), output);
        long off = Long.parseLong(r.group(1));
        long other = Long.parseLong(r.group(2));
        long on = Long.parseLong(r.group(3));
        // an event object is at least 24 bytes
        assertTrue(off < 8, off + " bytes per decode with no recording");
        assertTrue(other < 8, other + " bytes per decode while a recording of llama-java's other events ran");
        assertTrue(on >= 24, on + " bytes per decode with the decode event on: the measure sees an event object");
    }
}
