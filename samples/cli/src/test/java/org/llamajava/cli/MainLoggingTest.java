package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.llamajava.Llama;

/**
 * The CLI keeps llama.cpp's log quiet without {@code --verbose}. java.util.logging holds loggers
 * weakly: a configured logger that nothing else references is collected by the next full GC and
 * comes back with the default configuration, which printed llama.cpp's load warnings on stderr.
 */
class MainLoggingTest {

    @Test
    void theNativeLoggerStaysSilencedAfterGarbageCollection() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(sink, true, StandardCharsets.UTF_8);
        // a command that fails after parsing (no -m): the logging is configured by then
        int status = Main.run(new String[] {"generate", "-p", "x"}, ps, ps);
        assertEquals(2, status, sink.toString(StandardCharsets.UTF_8));
        // collect until a canary weakly held object is gone, so a weakly held logger would be too
        WeakReference<Object> canary = new WeakReference<>(new Object());
        for (int i = 0; i < 50 && canary.get() != null; i++) {
            System.gc();
        }
        Logger log = Logger.getLogger(Llama.NATIVE_LOGGER);
        assertEquals(Level.OFF, log.getLevel(), "llama.cpp's log must stay off without --verbose");
        assertEquals(false, log.getUseParentHandlers());
    }
}
