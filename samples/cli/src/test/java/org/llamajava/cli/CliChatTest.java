package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code llama-java chat} with stdin not a terminal, on stories260K with the built-in chatml
 * template and greedy sampling: one user turn per input line, stdout holds only the replies, each
 * followed by one empty line, and {@code /reset}, {@code /save}, {@code /load} work within a
 * process and across processes.
 *
 * <p>Every run pins one thread ({@code -t 1}): ggml's worker threads busy-wait, so on a small,
 * busy machine the default thread count makes each run seconds slower. The runs start together in
 * {@link #startRuns()}; the save/load pair runs in order.
 */
class CliChatTest {
    private static final String MODEL = "stories260K.gguf";
    private static final String U1 = "Once upon a time there was a cat.";
    private static final String U2 = "What did the cat do?";
    private static final String U3 = "Where did she go?";
    private static final String SYSTEM = "You tell short stories about a dog named Spot.";
    /** A Jinja template that renders exactly what llama.cpp's built-in chatml does. */
    private static final String CHATML_JINJA = "{% for message in messages %}{{ '<|im_start|>' + message['role']"
            + " + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @TempDir
    static Path tmp;

    private static final Map<String, Future<CliTestSupport.Result>> RUNS = new HashMap<>();
    private static Future<List<CliTestSupport.Result>> saveThenLoad;
    private static Path saved;

    /** The chat command line, with {@code extra} flags after the common ones. */
    private static String[] chat(Path model, String... extra) {
        List<String> a = new ArrayList<>(List.of("chat", "-m", model.toString(), "--temp", "0", "-n", "16", "-t",
                "1"));
        a.addAll(Arrays.asList(extra));
        if (!a.contains("--chat-template")) {
            a.addAll(List.of("--chat-template", "chatml"));
        }
        return a.toArray(String[]::new);
    }

    /** The lines as stdin text. */
    private static String input(String... lines) {
        return Arrays.stream(lines).map(l -> l + "\n").collect(Collectors.joining());
    }

    private static void start(String name, String stdin, String... args) {
        Path work = tmp.resolve("work").resolve(CliTestSupport.safeName(name));
        RUNS.put(name, CliTestSupport.submit(() -> CliTestSupport.runCliWithInput(work, stdin, args)));
    }

    @BeforeAll
    static void startRuns() throws IOException {
        CliTestSupport.cliJar();
        if (!CliTestSupport.hasModel(MODEL)) {
            return; // each test skips, or fails when the shared models are required
        }
        Path model = CliTestSupport.modelsDir().resolve(MODEL).toAbsolutePath().normalize();
        Path files = Files.createDirectories(tmp.resolve("files"));

        String threeTurns = input(U1, U2, "", "   ", U3);
        start("three turns", threeTurns, chat(model));
        start("three turns again", threeTurns, chat(model));
        start("first message again, no reset", input(U1, U2, U1), chat(model));
        start("system, first message", input(U1), chat(model, "--system", SYSTEM));
        start("system, reset", input(U1, U2, "/reset", U1), chat(model, "--system", SYSTEM));
        Path jinja = Files.writeString(files.resolve("chatml.jinja"), CHATML_JINJA, StandardCharsets.UTF_8);
        start("system, jinja file", input(U1, U2), chat(model, "--system", SYSTEM, "--chat-template",
                jinja.toString()));
        start("second message alone", input(U2), chat(model));

        Path corrupt = Files.writeString(files.resolve("corrupt.chat"), "not a chat file\n".repeat(20));
        Path directory = Files.createDirectories(files.resolve("a-directory"));
        start("bad commands", input("/bogus", "/load " + files.resolve("missing.chat"), "/load " + corrupt,
                "/save " + directory, "/save", U1), chat(model));
        start("unknown template", input(U1), chat(model, "--chat-template", "no-such-template"));

        saved = files.resolve("conversation.chat");
        Path workA = tmp.resolve("work").resolve("save");
        Path workB = tmp.resolve("work").resolve("load");
        saveThenLoad = CliTestSupport.submit(() -> {
            CliTestSupport.Result a = CliTestSupport.runCliWithInput(workA, input(U1, "/save " + saved, U2),
                    chat(model));
            CliTestSupport.Result b = CliTestSupport.runCliWithInput(workB, input("/load " + saved, U2), chat(model));
            return List.of(a, b);
        });
    }

    private static CliTestSupport.Result result(String name) {
        CliTestSupport.model(MODEL); // skips, or fails when the shared models are required
        return CliTestSupport.await(RUNS.get(name));
    }

    /**
     * The replies on stdout: each is followed by exactly one empty line, so stdout is
     * {@code reply "\n\n" reply "\n\n" ...}; a reply is not blank and has no leading or trailing
     * whitespace (which would make more or fewer empty lines).
     */
    private static List<String> replies(CliTestSupport.Result r, int expected) {
        assertEquals(0, r.exitCode(), () -> "exit status\n" + r.describe());
        noStackTrace(r);
        String out = r.stdout();
        assertTrue(out.endsWith("\n\n"), () -> "stdout does not end with a reply and an empty line\n" + r.describe());
        List<String> parts = Arrays.asList(out.substring(0, out.length() - 2).split("\n\n", -1));
        assertEquals(expected, parts.size(), () -> "number of replies on stdout\n" + r.describe());
        for (String p : parts) {
            assertFalse(p.isBlank(), () -> "a blank reply\n" + r.describe());
            assertEquals(p.strip(), p, () -> "a reply with whitespace around it\n" + r.describe());
        }
        return parts;
    }

    private static void noStackTrace(CliTestSupport.Result r) {
        assertTrue(r.stderrLines().stream().noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Exception in")
                || l.startsWith("Caused by:")), () -> "Java stack trace on stderr\n" + r.describe());
    }

    @Test
    void oneReplyPerLineEachFollowedByAnEmptyLine() {
        CliTestSupport.Result r = result("three turns");
        // two empty lines (one only spaces) in the input are ignored: three turns, three replies
        List<String> replies = replies(r, 3);
        assertEquals(replies.stream().map(s -> s + "\n\n").collect(Collectors.joining()), r.stdout());
    }

    @Test
    void repliesAreDeterministic() {
        CliTestSupport.Result a = result("three turns");
        CliTestSupport.Result b = result("three turns again");
        replies(a, 3);
        replies(b, 3);
        assertEquals(a.stdout(), b.stdout(), () -> "two runs differ\n" + a.describe() + "\n" + b.describe());
    }

    @Test
    void resetForgetsTheConversationButKeepsTheSystemPrompt() {
        // control: the conversation changes the reply to the same message, so the check below means something
        List<String> noReset = replies(result("first message again, no reset"), 3);
        assertNotEquals(noReset.get(0), noReset.get(2), "without /reset the history should change the reply");

        CliTestSupport.Result fresh = result("system, first message");
        CliTestSupport.Result r = result("system, reset");
        String first = replies(fresh, 1).get(0);
        List<String> replies = replies(r, 3);
        assertEquals(first, replies.get(0), () -> "first reply differs from a fresh process's\n" + r.describe());
        assertEquals(first, replies.get(2), () -> "after /reset the same message got another reply\n"
                + r.describe());
        // the system prompt shapes the reply, and survived the reset
        String withoutSystem = replies(result("three turns"), 3).get(0);
        assertNotEquals(withoutSystem, first, "the system prompt should change the reply");
        assertTrue(r.stderr().contains("reset"), () -> "no confirmation of /reset on stderr\n" + r.describe());
    }

    @Test
    void chatTemplateFromAJinjaFile() {
        List<String> builtin = replies(result("system, reset"), 3).subList(0, 2);
        assertEquals(builtin, replies(result("system, jinja file"), 2),
                "a Jinja file rendering chatml should give the built-in chatml's replies");
    }

    @Test
    void saveThenLoadInANewProcessContinuesTheConversation() throws IOException {
        CliTestSupport.model(MODEL);
        List<CliTestSupport.Result> pair = CliTestSupport.await(saveThenLoad);
        CliTestSupport.Result a = pair.get(0);
        CliTestSupport.Result b = pair.get(1);
        List<String> original = replies(a, 2);
        assertTrue(Files.size(saved) > 0, "nothing saved");
        assertTrue(a.stderr().contains("saved to " + saved), () -> "no confirmation of /save on stderr\n"
                + a.describe());
        assertEquals(replies(result("three turns"), 3).get(0), original.get(0), "first reply");

        List<String> loaded = replies(b, 1);
        assertEquals(original.get(1), loaded.get(0), () -> "after /load the reply differs from the original"
                + " process's\noriginal:\n" + a.describe() + "\nloaded:\n" + b.describe());
        // control: without the loaded conversation the same message gets another reply
        assertNotEquals(replies(result("second message alone"), 1).get(0), loaded.get(0),
                "the loaded conversation should change the reply");
    }

    @Test
    void failingCommandsReportOnStderrAndTheChatGoesOn() {
        CliTestSupport.Result r = result("bad commands");
        String expected = replies(result("three turns"), 3).get(0);
        assertEquals(List.of(expected), replies(r, 1), () -> "the chat did not go on\n" + r.describe());
        List<String> errors = r.stderrLines().stream().filter(l -> l.startsWith("error:")).collect(Collectors.toList());
        // /bogus, /load of a missing file, /load of a corrupt one, /save to a directory, /save without a file
        assertEquals(5, errors.size(), () -> "one error line per failing command\n" + r.describe());
        assertTrue(errors.get(0).contains("/bogus"), () -> "unknown command not named\n" + r.describe());
        assertTrue(errors.get(1).contains("missing.chat"), () -> "missing file not named\n" + r.describe());
        assertTrue(errors.get(2).contains("corrupt.chat"), () -> "corrupt file not named\n" + r.describe());
    }

    @Test
    void unknownChatTemplateIsAOneLineError() {
        CliTestSupport.Result r = result("unknown template");
        assertTrue(r.exitCode() != 0, () -> "exit status 0\n" + r.describe());
        assertEquals("", r.stdout(), () -> "stdout\n" + r.describe());
        List<String> err = r.stderrLines();
        assertEquals(1, err.size(), () -> "stderr is not one line\n" + r.describe());
        assertTrue(err.get(0).startsWith("error:") && err.get(0).contains("no-such-template"),
                () -> "not an error naming the template\n" + r.describe());
    }
}
