package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Distributed inference over llama.cpp's RPC backend on loopback: an RPC server in a child JVM
 * ({@link RpcServer}), and a client JVM whose model keeps some or all layers on it generates
 * exactly the tokens of a local run. An unreachable server is a clear error within the timeout;
 * a server killed mid-generation, or one that stops answering, is an {@link RpcServerException}
 * in the client, whose JVM lives on and generates locally afterwards.
 */
class RpcTest {
    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Path model() {
        Path p = tmp.resolve("rpc.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(11).scale(4f).write(p);
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Process child(Path out, String... args) throws IOException {
        return child(out, List.of(), args);
    }

    private Process child(Path out, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(RpcChild.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        children.add(p);
        return p;
    }

    /** Starts an RPC server child on a free loopback port and waits until it accepts connections. */
    private Process server(int port) throws Exception {
        Process p = child(tmp.resolve("server-" + port + ".out"), "server", Integer.toString(port));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
                return p;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > end) {
                    throw new AssertionError("the RPC server did not start: "
                            + Files.readString(tmp.resolve("server-" + port + ".out")));
                }
                Thread.sleep(200);
            }
        }
    }

    private int[] localTokens(Path model, int n) {
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sampler greedy = Sampler.greedy()) {
            return ctx.generate(m.vocabulary().tokenize(RpcChild.PROMPT), greedy, n, null).tokens();
        }
    }

    @Test
    void layersOnAnRpcServerGenerateWhatTheLocalRunGenerates() throws Exception {
        Path model = model();
        int n = 24;
        String expected = "TOKENS " + Arrays.toString(localTokens(model, n));
        int port = freePort();
        server(port);
        for (int layers : new int[] {ModelParams.ALL_LAYERS, 1}) {
            Path out = tmp.resolve("client-" + layers + ".out");
            Process c = child(out, "client", model.toString(), "127.0.0.1:" + port, Integer.toString(layers),
                    Integer.toString(n));
            assertTrue(c.waitFor(120, TimeUnit.SECONDS), "the client did not finish");
            String output = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, c.exitValue(), output);
            assertTrue(output.contains("DEVICES [") && output.contains("RPC"), "an RPC device is registered: " + output);
            assertTrue(output.lines().anyMatch(expected::equals), "layers " + layers + ": " + output + " vs " + expected);
        }
    }

    /**
     * JFR in an RPC client: its model load names the server, and every decode is an RPC call
     * (org.llamajava.RpcCall "decoding", as many as the org.llamajava.Decode events), all answered.
     */
    @Test
    void anRpcClientsRecordingHasAnRpcCallPerDecode() throws Exception {
        Path model = model();
        int port = freePort();
        server(port);
        Path out = tmp.resolve("client-jfr.out");
        Path rec = tmp.resolve("client.jfr");
        Process c = child(out, List.of("-XX:StartFlightRecording=filename=" + rec + ",settings=default"), "client",
                model.toString(), "127.0.0.1:" + port, Integer.toString(ModelParams.ALL_LAYERS), "6");
        assertTrue(c.waitFor(120, TimeUnit.SECONDS), "the client did not finish");
        assertEquals(0, c.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        List<jdk.jfr.consumer.RecordedEvent> events = jdk.jfr.consumer.RecordingFile.readAllEvents(rec);
        List<jdk.jfr.consumer.RecordedEvent> calls = events.stream()
                .filter(e -> e.getEventType().getName().equals("org.llamajava.RpcCall")).toList();
        long decodes = events.stream().filter(e -> e.getEventType().getName().equals("org.llamajava.Decode")).count();
        assertTrue(decodes >= 6, "decodes: " + decodes);
        assertEquals(decodes, calls.stream().filter(e -> e.getString("operation").equals("decoding")).count());
        assertTrue(calls.stream().anyMatch(e -> e.getString("operation").startsWith("loading ")), calls.toString());
        assertTrue(calls.stream().allMatch(e -> e.getBoolean("succeeded")
                && e.getString("servers").equals("127.0.0.1:" + port)), calls.toString());
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().equals("org.llamajava.ModelLoad")
                && e.getString("devices").contains("RPC 127.0.0.1:" + port)));
    }

    @Test
    void aLaterModelWithoutRpcServersStaysLocalAfterTheServerIsGone() throws Exception {
        Path model = model();
        int n = 8;
        String expected = Arrays.toString(localTokens(model, n));
        int port = freePort();
        Process server = server(port);
        Path out = tmp.resolve("rpc-then-local.out");
        Process c = child(out, "rpc-then-local", model.toString(), "127.0.0.1:" + port, Integer.toString(n));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out, StandardCharsets.UTF_8).contains("WAITING")) {
            assertTrue(c.isAlive() && System.nanoTime() < end, "the client did not finish its RPC run: "
                    + Files.readString(out, StandardCharsets.UTF_8));
            Thread.sleep(100);
        }
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        try (var stdin = c.getOutputStream()) {
            stdin.write('\n');
        }
        assertTrue(c.waitFor(120, TimeUnit.SECONDS), "the client did not finish its local run");
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, c.exitValue(), "a model without rpcServers used the dead server's device: " + output);
        assertTrue(output.lines().anyMatch(("RPC " + expected)::equals), output + " vs " + expected);
        assertTrue(output.lines().anyMatch(("LOCAL " + expected)::equals), output + " vs " + expected);
    }

    @Test
    void anUnreachableServerIsAClearErrorWithinTheTimeout() throws Exception {
        Path model = model();
        // a bound socket that does not listen holds the port: connections to it are refused, and no
        // other process can start listening there meanwhile, so this JVM never registers a server
        try (Socket holder = new Socket()) {
            holder.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            int port = holder.getLocalPort();
            LlamaException e = assertThrows(LlamaException.class,
                    () -> Model.load(model, ModelParams.builder().rpcServers("127.0.0.1:" + port).build()));
            assertTrue(e.getMessage().contains("not reachable"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().rpcServers("no-port").build());
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().rpcServers("host:99999").build());
        assertTrue(Llama.devices().stream().noneMatch(d -> d.name().startsWith("RPC")), "nothing was registered");
    }

    /** Starts a slow client on a fresh server, waits for its first generation, then does {@code toServer}. */
    private String slowClient(Path model, String timeoutMs, ServerAction toServer) throws Exception {
        int port = freePort();
        Process server = server(port);
        Path out = tmp.resolve("slow-client-" + port + ".out");
        List<String> args = new ArrayList<>(List.of("slow-client", model.toString(), "127.0.0.1:" + port));
        if (timeoutMs != null) {
            args.add(timeoutMs);
        }
        Process c = child(out, args.toArray(String[]::new));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out, StandardCharsets.UTF_8).contains("STARTED")) {
            assertTrue(c.isAlive() && System.nanoTime() < end, "the client did not start generating: "
                    + Files.readString(out, StandardCharsets.UTF_8));
            Thread.sleep(100);
        }
        toServer.apply(server);
        try {
            assertTrue(c.waitFor(120, TimeUnit.SECONDS), "the client hung after its server failed: "
                    + Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            server.destroyForcibly();
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, c.exitValue(), "the client JVM did not live on: " + output);
        return output;
    }

    @FunctionalInterface
    private interface ServerAction {
        void apply(Process server) throws Exception;
    }

    private static void assertLivesOn(String output, String expectedLocal) {
        assertTrue(!output.contains("FINISHED"), output);
        // every later call on the failed model throws at once, and so does loading it again on that server
        assertTrue(output.contains("SECOND CALL RpcServerException"), output);
        assertTrue(output.contains("RELOAD RpcServerException") && output.contains("restart the JVM"), output);
        // listing devices does not ask the failed server (it would wait forever): its memory reads 0
        assertTrue(output.lines().anyMatch(l -> l.startsWith("DEVICES AFTER [") && l.matches(".*RPC[^,]*=0\\b.*")),
                output);
        // closing the failed model and context returns (their native memory is left alone)
        assertTrue(output.contains("CLOSED"), output);
        // and the same JVM goes on generating with a local model
        assertTrue(output.lines().anyMatch(("ALIVE " + expectedLocal)::equals), output + " vs " + expectedLocal);
    }

    @Test
    void aServerKilledMidGenerationIsAnRpcServerExceptionAndTheClientJvmLivesOn() throws Exception {
        Path model = model();
        String expected = Arrays.toString(localTokens(model, 4));
        String output = slowClient(model, null, server -> server.destroyForcibly().waitFor(10, TimeUnit.SECONDS));
        assertTrue(output.contains("EXCEPTION RpcServerException servers=[127.0.0.1:"), output);
        assertTrue(output.contains("stopped answering"), output);
        assertLivesOn(output, expected);
        // and this JVM, which never registered the server, still works
        assertEquals(4, localTokens(model, 4).length);
    }

    @Test
    void aServerThatStopsAnsweringIsAnRpcServerExceptionAfterTheTimeout() throws Exception {
        Path model = model();
        String expected = Arrays.toString(localTokens(model, 4));
        // SIGSTOP: the server keeps its connection open and never answers again
        String output = slowClient(model, "3000", server -> {
            Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(server.pid())).inheritIO().start();
            assertEquals(0, stop.waitFor());
        });
        assertTrue(output.contains("EXCEPTION RpcServerException servers=[127.0.0.1:"), output);
        assertTrue(output.contains("within 3000 ms"), output);
        assertLivesOn(output, expected);
    }
}
