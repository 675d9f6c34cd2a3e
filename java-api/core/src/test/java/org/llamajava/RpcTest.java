package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * a server killed mid-generation ends the client process as ggml's RPC client does (it aborts:
 * no Java code can catch that), which the test observes from outside, and this JVM lives on.
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
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
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

    @Test
    void anUnreachableServerIsAClearErrorWithinTheTimeout() throws Exception {
        Path model = model();
        int port = freePort(); // nothing listens there
        LlamaException e = assertThrows(LlamaException.class,
                () -> Model.load(model, ModelParams.builder().rpcServers("127.0.0.1:" + port).build()));
        assertTrue(e.getMessage().contains("not reachable"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().rpcServers("no-port").build());
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().rpcServers("host:99999").build());
        assertTrue(Llama.devices().stream().noneMatch(d -> d.name().startsWith("RPC")), "nothing was registered");
    }

    @Test
    void aServerKilledMidGenerationEndsTheClientProcessAndThisJvmLivesOn() throws Exception {
        Path model = model();
        int port = freePort();
        Process server = server(port);
        Path out = tmp.resolve("slow-client.out");
        Process c = child(out, "slow-client", model.toString(), "127.0.0.1:" + port);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out, StandardCharsets.UTF_8).contains("STARTED")) {
            assertTrue(c.isAlive() && System.nanoTime() < end, "the client did not start generating: "
                    + Files.readString(out, StandardCharsets.UTF_8));
            Thread.sleep(100);
        }
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertTrue(c.waitFor(60, TimeUnit.SECONDS), "the client hung after its server died");
        String output = Files.readString(out, StandardCharsets.UTF_8);
        // ggml's RPC client aborts the process ("Remote RPC server crashed or returned malformed response")
        assertNotEquals(0, c.exitValue(), output);
        assertTrue(!output.contains("FINISHED"), output);
        assertTrue(output.contains("RPC server"), output);
        // and this JVM, which never registered the server, still works
        assertEquals(localTokens(model, 4).length, 4);
    }
}
