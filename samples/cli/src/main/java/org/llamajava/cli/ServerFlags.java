package org.llamajava.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * llama-server's flags, and what {@code serve} does with those it has no option for
 * ({@code llama-server-flags.tsv}, the one list, checked against the pinned llama.cpp's
 * {@code common/arg.cpp} by ServerFlagsTest): a flag that changes nothing in the replies is accepted
 * with a warning naming it (with its value, if it takes one); one that would change results or
 * weaken security if ignored is refused, saying why.
 */
final class ServerFlags {
    /** What serve does with a flag. */
    enum Status { SERVE, IGNORE, REFUSE }

    /** One of llama-server's flags: its names, whether it takes a value, its variable, serve's status and why. */
    record Flag(List<String> names, List<String> negated, boolean takesValue, String env, Status status, String why) {}

    private static final List<Flag> ALL = new ArrayList<>();
    private static final Map<String, Flag> BY_NAME = load();

    private ServerFlags() {}

    /** Every line of the list, in its order (arg.cpp's). */
    static List<Flag> all() {
        return java.util.Collections.unmodifiableList(ALL);
    }

    /** Every flag of the list, by each of its names (negated ones included). */
    static Map<String, Flag> byName() {
        return BY_NAME;
    }

    private static Map<String, Flag> load() {
        Map<String, Flag> out = new LinkedHashMap<>();
        try (InputStream in = ServerFlags.class.getResourceAsStream("llama-server-flags.tsv")) {
            if (in == null) {
                throw new IllegalStateException("llama-server-flags.tsv is missing from the CLI jar");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                Flag flag = new Flag(words(f[0]), words(f[1]), f[2].equals("value"), f[3],
                        Status.valueOf(f[4].toUpperCase(java.util.Locale.ROOT)), f[5]);
                ALL.add(flag);
                flag.names().forEach(n -> out.putIfAbsent(n, flag));
                flag.negated().forEach(n -> out.putIfAbsent(n, flag));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static List<String> words(String s) {
        return s.isBlank() ? List.of() : List.of(s.trim().split(" "));
    }

    /**
     * Goes through the arguments serve's own options did not take: llama-server's flags that change
     * nothing are skipped (with their value) and reported in the returned warnings; anything else
     * fails with a {@link UsageException} that says why and what to do.
     */
    static List<String> check(List<String> unmatched) {
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < unmatched.size(); i++) {
            String arg = unmatched.get(i);
            String name = arg;
            boolean inlineValue = false;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inlineValue = true;
            }
            Flag flag = BY_NAME.get(name);
            if (flag == null) {
                // as picocli says it for every other command
                throw new UsageException(arg.startsWith("-") ? "Unknown option: '" + arg + "'"
                        : "Unexpected argument: '" + arg + "'");
            }
            switch (flag.status()) {
                case SERVE -> throw new UsageException(name + " is llama-server's spelling of one of serve's options:"
                        + " give " + flag.names().get(flag.names().size() - 1) + " (see serve --help)");
                case REFUSE -> throw new UsageException("llama-server's " + name + " is not supported by serve: it "
                        + flag.why());
                case IGNORE -> {
                    String value = "";
                    boolean negated = flag.negated().contains(name);
                    if (flag.takesValue() && !negated && !inlineValue) {
                        if (i + 1 >= unmatched.size()) {
                            throw new UsageException("llama-server's " + name + " needs a value");
                        }
                        value = " " + unmatched.get(++i);
                    }
                    warnings.add("ignoring llama-server's " + (inlineValue ? arg : name + value) + ": " + flag.why());
                }
            }
        }
        return warnings;
    }
}
