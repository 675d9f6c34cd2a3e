package org.llamajava.cli;

import java.io.Console;

/** Whether the CLI talks to a person at a terminal, and whether colours are wanted. */
final class Terminals {
    private Terminals() {}

    /** Whether stdin and stdout are a terminal. */
    static boolean interactive() {
        Console c = System.console();
        if (c == null) {
            return false;
        }
        // Java 22 and later return a console for redirected streams too; isTerminal() tells
        try {
            Object t = Console.class.getMethod("isTerminal").invoke(c);
            return Boolean.TRUE.equals(t);
        } catch (NoSuchMethodException e) {
            return true; // Java 17 to 21: a console exists only on a terminal
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true;
        }
    }

    /** Whether colours may be used: on a terminal, and NO_COLOR not set (https://no-color.org). */
    static boolean colors(boolean terminal) {
        String no = System.getenv("NO_COLOR");
        return terminal && (no == null || no.isEmpty());
    }
}
