package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code serve} takes llama-server's flags: the list in {@code llama-server-flags.tsv} is exactly
 * the flags that the pinned llama.cpp's {@code common/arg.cpp} gives llama-server (names, negated
 * names, value or not, variable); those marked serve are serve's own options; the others are
 * accepted with a warning or refused with the reason; and llama.cpp's server test suite's start-up
 * line ({@code --temp 0.8 --seed 42 --no-slots --no-jinja} ...) starts a server.
 */
class CliServerFlagsTest {
    @TempDir
    Path tmp;

    /** A flag of arg.cpp that applies to llama-server. */
    record Parsed(List<String> names, List<String> negated, boolean value, String env) {}

    /** arg.cpp's add_opt(common_arg(...)) blocks that apply to llama-server, in order. */
    static List<Parsed> serverFlags(String src) {
        src = src.replaceAll("(?m)^\\s*//.*$", "");
        List<Parsed> out = new ArrayList<>();
        String open = "add_opt(common_arg(";
        for (int j = src.indexOf(open); j >= 0; j = src.indexOf(open, j + 1)) {
            int p = j + "add_opt(".length();
            int depth = 1;
            while (depth > 0) { // to the matching parenthesis, skipping string literals
                char c = src.charAt(p);
                if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                } else if (c == '"') {
                    for (p++; src.charAt(p) != '"'; p++) {
                        if (src.charAt(p) == '\\') {
                            p++;
                        }
                    }
                }
                p++;
            }
            String block = src.substring(j, p);
            String inner = block.substring(open.length());
            Matcher m = Pattern.compile("^\\s*\\{([^{}]*)\\}\\s*,\\s*(\\{([^{}]*)\\}\\s*,)?").matcher(inner);
            assertTrue(m.find(), "a flag block starts with its names: " + inner.substring(0, Math.min(80, inner.length())));
            List<String> names = strings(m.group(1));
            List<String> negated = m.group(3) == null ? List.of() : strings(m.group(3));
            Matcher lambda = Pattern.compile("\\[\\]\\s*\\(([^)]*)\\)").matcher(inner.substring(m.end()));
            boolean value = negated.isEmpty() && lambda.find() && lambda.group(1).contains(",");
            Matcher ex = Pattern.compile("set_examples\\(\\{([^}]*)\\}\\)").matcher(block);
            Matcher exc = Pattern.compile("set_excludes\\(\\{([^}]*)\\}\\)").matcher(block);
            String examples = ex.find() ? ex.group(1) : "LLAMA_EXAMPLE_COMMON";
            boolean server = (examples.contains("LLAMA_EXAMPLE_SERVER") || examples.contains("LLAMA_EXAMPLE_COMMON"))
                    && !(exc.find() && exc.group(1).contains("LLAMA_EXAMPLE_SERVER"));
            Matcher env = Pattern.compile("set_env\\(\"([A-Z_0-9]+)\"\\)").matcher(block);
            if (server) {
                out.add(new Parsed(names, negated, value, env.find() ? env.group(1) : ""));
            }
        }
        return out;
    }

    private static List<String> strings(String list) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]+)\"").matcher(list);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static Set<String> serveOptions() {
        CommandLine main = Main.commandLine(System.out, System.err);
        Set<String> names = new java.util.HashSet<>();
        for (CommandLine.Model.OptionSpec o : main.getSubcommands().get("serve").getCommandSpec().options()) {
            names.addAll(List.of(o.names()));
            if (o.negatable()) { // picocli's --no-NAME
                for (String n : o.names()) {
                    if (n.startsWith("--")) {
                        names.add("--no-" + n.substring(2));
                    }
                }
            }
        }
        return names;
    }

    @Test
    void theListIsArgCppsServerFlags() throws Exception {
        List<Parsed> expected = serverFlags(Files.readString(CliTestSupport.llamaSource().resolve("common/arg.cpp")));
        assertTrue(expected.size() > 200, "llama-server has over 200 flags: " + expected.size());
        Map<String, ServerFlags.Flag> listed = ServerFlags.byName();
        assertEquals(expected.size(), ServerFlags.all().size(), "one line per flag of arg.cpp");
        Map<String, String> wrong = new TreeMap<>();
        for (Parsed p : expected) {
            ServerFlags.Flag f = listed.get(p.names().get(0));
            if (f == null) {
                wrong.put(p.names().get(0), "not listed");
            } else if (!f.names().equals(p.names()) || !f.negated().equals(p.negated()) || f.takesValue() != p.value()
                    || !f.env().equals(p.env())) {
                wrong.put(p.names().get(0), "listed as " + f + ", arg.cpp has " + p);
            }
        }
        assertEquals(Map.of(), wrong, "llama-server-flags.tsv against arg.cpp");
    }

    @Test
    void serveTakesTheFlagsMarkedServeAndNoOther() {
        Set<String> options = serveOptions();
        Set<String> missing = new java.util.TreeSet<>();
        Set<String> misfiled = new java.util.TreeSet<>();
        for (ServerFlags.Flag f : ServerFlags.all()) {
            List<String> all = new ArrayList<>(f.names());
            all.addAll(f.negated());
            for (String n : all) {
                if (f.status() == ServerFlags.Status.SERVE && !options.contains(n)) {
                    missing.add(n);
                }
                if (f.status() != ServerFlags.Status.SERVE && options.contains(n)) {
                    misfiled.add(n);
                }
            }
            assertTrue(f.status() == ServerFlags.Status.SERVE || f.why().length() > 20, "a reason for " + f);
        }
        // picocli's help option has no --usage alias: serve answers it with what to give instead
        assertEquals(Set.of("--usage"), missing, "llama-server's names of serve's options that serve lacks");
        assertEquals(Set.of(), misfiled, "serve has options for these: mark them serve");
    }

    @Test
    void unsupportedFlagsWarnOrSayWhy() {
        List<String> warnings = ServerFlags.check(List.of("--no-perf", "--timeout", "600", "--ubatch-size=64",
                "--no-ui"));
        assertEquals(4, warnings.size(), warnings.toString());
        assertTrue(warnings.get(1).contains("--timeout 600"), warnings.get(1));
        assertTrue(warnings.get(2).contains("--ubatch-size=64"), warnings.get(2));
        UsageException served = assertThrows(UsageException.class, () -> ServerFlags.check(List.of("--metrics")));
        assertTrue(served.getMessage().contains("spelling of one of serve's options"), served.getMessage());
        UsageException grammar = assertThrows(UsageException.class, () -> ServerFlags.check(List.of("--grammar", "root ::= \"a\"")));
        assertTrue(grammar.getMessage().contains("per request"), grammar.getMessage());
        UsageException tls = assertThrows(UsageException.class, () -> ServerFlags.check(List.of("--ssl-key-file", "k.pem")));
        assertTrue(tls.getMessage().contains("TLS"), tls.getMessage());
        UsageException keyFile = assertThrows(UsageException.class, () -> ServerFlags.check(List.of("--api-key-file", "k")));
        assertTrue(keyFile.getMessage().contains("--api-key"), keyFile.getMessage());
        UsageException unknown = assertThrows(UsageException.class, () -> ServerFlags.check(List.of("--frobnicate")));
        assertTrue(unknown.getMessage().contains("Unknown option"), unknown.getMessage());
        assertThrows(UsageException.class, () -> ServerFlags.check(List.of("--timeout")), "a value is needed");
    }

    /**
     * As llama-server reads them: a long flag's underscores are dashes ({@code --backend_sampling},
     * which llama.cpp's test suite sends), values untouched; {@code --chat-template} with text that
     * is neither a built-in template's name nor a file is the Jinja template itself.
     */
    @Test
    void underscoresInFlagsAndInlineTemplates() throws Exception {
        String[] in = {"serve", "--ctx_size", "512", "--backend_sampling", "-a", "my_model",
                "--chat_template_kwargs={\"enable_thinking\":false}"};
        String[] out = {"serve", "--ctx-size", "512", "--backend-sampling", "-a", "my_model",
                "--chat-template-kwargs={\"enable_thinking\":false}"};
        org.junit.jupiter.api.Assertions.assertArrayEquals(out, ServeCommand.dashes(in));
        assertTrue(ServeCommand.inline("This is not a chat template, it is", false));
        assertTrue(ServeCommand.inline("{{ messages[0].content }}", false));
        assertTrue(!ServeCommand.inline("chatml", false), "a built-in template's name");
        Path file = Files.writeString(tmp.resolve("t.jinja"), "{{ 'x' }}");
        assertTrue(!ServeCommand.inline(file.toString(), false), "a file");
        assertTrue(!ServeCommand.inline("{{ 'x' }}", true), "--chat-template-file's value is a file");
    }

    @Test
    void theSuitesStartLineStartsAServer() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        // tools/server/tests/utils.py's defaults: --temp 0.8 --seed 42 ... --no-slots --no-jinja
        CliTestSupport.Served served = CliTestSupport.serve(tmp, "--host", "127.0.0.1", "--port", "0", "--temp", "0.8",
                "--seed", "42", "--alias", "tinyllama-2", "-m", model.toString(), "--ctx-size", "512", "--parallel", "2",
                "--batch-size", "32", "-n", "64", "--threads", "1", "--no-slots", "--no-jinja", "-fa", "off");
        try (served) {
            HttpResponse<String> health = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(served.url() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            // --no-slots is served: GET /slots answers 501 (llama-server's not-supported error)
            HttpResponse<String> slots = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(served.url() + "/slots")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(501, slots.statusCode(), slots.body());
        }
        assertTrue(served.stderr().contains("ignoring llama-server's -fa off"), served.stderr());
        CliTestSupport.Result refused = CliTestSupport.runCli(tmp, "serve", "-m", model.toString(), "--rope-scale", "2");
        assertEquals(2, refused.exitCode(), refused::describe);
        assertTrue(refused.stderr().contains("--rope-scale") && refused.stderr().contains("not supported by serve"),
                refused::describe);
    }

    private static List<String> cors(String... args) {
        ServeCommand serve = new ServeCommand();
        new picocli.CommandLine(serve).setPosixClusteredShortOptionsAllowed(false).parseArgs(args); // as Main
        return serve.corsOrigins();
    }

    /**
     * llama-server allows every origin by default, and loopback pages only once built-in tools or MCP
     * servers are asked for; serve follows it where a page still needs the API key, and sends no CORS
     * headers without a key. The end-to-end check: a keyed serve answers a preflight as llama-server does.
     */
    @Test
    void corsDefaults() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("LLAMA_ARG_CORS_ORIGINS") == null
                && System.getenv("LLAMA_ARG_TOOLS") == null && System.getenv("LLAMA_ARG_AGENT") == null);
        assertEquals(List.of(), cors());
        assertEquals(List.of("*"), cors("--api-key", "k"));
        assertEquals(List.of("localhost"), cors("--api-key", "k", "--tools", "all"));
        assertEquals(List.of("localhost"), cors("--tools=read_file"));
        assertEquals(List.of("localhost"), cors("-ag"));
        assertEquals(List.of("*"), cors("--api-key", "k", "--agent", "--no-agent"));
        assertEquals(List.of("https://a.example", "https://b.example"),
                cors("--tools", "all", "--cors-origins", "https://a.example, https://b.example"));
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Served served = CliTestSupport.serve(tmp, "--port", "0", "-m", model.toString(), "--api-key",
                "secret-key", "-c", "256", "-np", "1");
        try (served) {
            HttpResponse<String> pre = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(served.url()
                    + "/completions")).method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin",
                    "web.mydomain.fr").header("Access-Control-Request-Method", "POST").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, pre.statusCode(), pre.body());
            assertEquals("web.mydomain.fr", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertEquals("true", pre.headers().firstValue("Access-Control-Allow-Credentials").orElse(null));
            HttpResponse<String> noKey = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(served.url()
                    + "/v1/models")).header("Origin", "web.mydomain.fr").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, noKey.statusCode(), "CORS does not replace the key");
        }
    }
}
