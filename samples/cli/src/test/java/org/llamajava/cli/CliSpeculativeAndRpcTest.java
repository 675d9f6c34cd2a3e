package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The placement and speculation flags of {@code generate}, on stories260K with greedy decoding:
 * n-gram lookup ({@code --lookup}, {@code --spec-type ngram-cache}) and a draft model
 * ({@code -md}) print exactly the plain text; {@code -ot} on the CPU changes nothing;
 * {@code --cpu-moe} on a dense model and an unreachable {@code --rpc} are clear errors; and
 * {@code rpc-server} serves layers to {@code generate --rpc} (the same text again), and warns when
 * it binds a non-loopback address.
 */
class CliSpeculativeAndRpcTest {
    private static final String PROMPT = "Once upon a time, there was a little girl named Lily. She liked to play."
            + " Once upon a time, there was a little girl named Lily. She liked to";

    @TempDir
    static Path tmp;

    private static Path model;
    private static String plain;

    @BeforeAll
    static void plainRun() {
        CliTestSupport.cliJar();
        model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result r = generate("plain");
        assertEquals(0, r.exitCode(), r::describe);
        plain = r.stdout();
        assertTrue(plain.strip().length() > 10, r::describe);
    }

    private static CliTestSupport.Result generate(String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "-m", model.toString(), "-p", PROMPT, "-n", "24",
                "--temp", "0", "-t", "1", "-c", "256"));
        args.addAll(List.of(extra));
        return CliTestSupport.runCli(tmp.resolve(CliTestSupport.safeName(name)), args.toArray(String[]::new));
    }

    private static void assertSameText(String name, String... extra) {
        CliTestSupport.Result r = generate(name, extra);
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals(plain, r.stdout(), () -> name + " printed other text\n" + r.describe());
    }

    @Test
    void lookupAndADraftModelPrintThePlainText() {
        CliTestSupport.Result lookup = generate("lookup", "--lookup", "--draft-max", "8");
        assertEquals(0, lookup.exitCode(), lookup::describe);
        assertEquals(plain, lookup.stdout(), lookup::describe);
        assertTrue(lookup.stderr().contains("drafted "), lookup::describe);
        assertSameText("spec-type", "--spec-type", "ngram-cache", "--draft-min", "1");
        assertSameText("draft", "-md", model.toString(), "--draft-max", "4", "--draft-p-min", "0", "-td", "1");
        CliTestSupport.Result bad = generate("draft-max alone", "--draft-max", "4");
        assertEquals(2, bad.exitCode(), bad::describe);
        assertTrue(bad.stderr().contains("-md"), bad::describe);
        CliTestSupport.Result type = generate("unknown spec type", "--spec-type", "eagle");
        assertEquals(2, type.exitCode(), type::describe);
        assertTrue(type.stderr().contains("ngram-cache"), type::describe);
    }

    @Test
    void tensorOverridesOnTheCpuChangeNothingAndMoeShortcutsNeedExperts() {
        assertSameText("ot", "-ot", "blk\\.0\\.=CPU,output=CPU");
        CliTestSupport.Result moe = generate("cpu-moe", "--cpu-moe");
        assertNotEquals(0, moe.exitCode(), moe::describe);
        assertTrue(moe.stderr().toLowerCase().contains("expert") || moe.stderr().contains("MoE"), moe::describe);
        CliTestSupport.Result type = generate("bad buffer type", "-ot", "blk=NOPE");
        assertNotEquals(0, type.exitCode(), type::describe);
        assertTrue(type.stderr().contains("NOPE"), type::describe);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void rpcServerServesGenerateAndAnUnreachableServerIsAClearError() throws Exception {
        CliTestSupport.Result bad = generate("rpc form", "--rpc", "nohost");
        assertEquals(2, bad.exitCode(), bad::describe);
        try (Socket holder = new Socket()) {
            holder.bind(new InetSocketAddress("127.0.0.1", 0)); // bound, not listening: refused
            CliTestSupport.Result gone = generate("rpc unreachable", "--rpc", "127.0.0.1:" + holder.getLocalPort());
            assertNotEquals(0, gone.exitCode(), gone::describe);
            assertTrue(gone.stderr().contains("not reachable"), gone::describe);
        }
        int port = freePort();
        Path log = tmp.resolve("rpc-server.log");
        Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-jar", CliTestSupport.cliJar().toAbsolutePath().toString(), "rpc-server",
                "-p", Integer.toString(port), "-t", "1", "-d", "CPU")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    break;
                } catch (IOException e) {
                    assertTrue(server.isAlive() && System.nanoTime() < end, "rpc-server did not start: "
                            + Files.readString(log));
                    Thread.sleep(200);
                }
            }
            assertTrue(!Files.readString(log).contains("WARNING"), "no warning on loopback: " + Files.readString(log));
            assertSameText("rpc", "--rpc", "127.0.0.1:" + port);
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void rpcServerWarnsOnANonLoopbackAddress() throws Exception {
        // the port is taken, so the server prints the warning, then fails to listen and exits
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            CliTestSupport.Result r = CliTestSupport.runCli(tmp.resolve("rpc-warning"), "rpc-server", "-H", "0.0.0.0",
                    "-p", Integer.toString(taken.getLocalPort()), "-t", "1");
            assertNotEquals(0, r.exitCode(), r::describe);
            assertTrue(r.stderr().contains("unauthenticated"), r::describe);
            assertTrue(r.stderr().contains("cannot listen"), r::describe);
        }
        CliTestSupport.Result d = CliTestSupport.runCli(tmp.resolve("rpc-bad-device"), "rpc-server", "-d", "NODEV",
                "-p", Integer.toString(freePort()));
        assertEquals(2, d.exitCode(), d::describe);
        assertTrue(d.stderr().contains("NODEV"), d::describe);
    }
}
