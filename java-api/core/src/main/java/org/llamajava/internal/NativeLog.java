package org.llamajava.internal;

import static org.llamajava.bindings.global.llama.*;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.llamajava.bindings.ggml_log_callback;

/**
 * Routes the native log (llama.cpp's, ggml's and, once given {@link #callback()}, mtmd's) into
 * {@link System.Logger} under the logger name {@value #LOGGER}, never to stdout: collects the
 * fragments into lines, records errors and warnings in {@link NativeErrors}, hands each line to
 * {@link NativeLogLines} and notes the CPU backend ggml's loader reports
 * ({@link NativeLibrary#noteBackendLoaded}). Internal: not part of the API.
 */
public final class NativeLog {
    /** Name of the {@link System.Logger} that receives the native log lines. */
    public static final String LOGGER = "org.llamajava.native";

    private static final Logger LOG = System.getLogger(LOGGER);
    // the one callback; kept strongly reachable for as long as native code may call it
    private static Router router;

    private NativeLog() {}

    /** The one callback that routes native log lines; hand it to each native library's log setter. */
    public static synchronized ggml_log_callback callback() {
        if (router == null) {
            router = new Router();
        }
        return router;
    }

    /** Collects log fragments into lines and forwards each line to {@link System.Logger}. */
    private static final class Router extends ggml_log_callback {
        private final StringBuilder line = new StringBuilder();
        private Level lineLevel = Level.DEBUG;

        @Override
        public synchronized void call(int level, BytePointer text, Pointer userData) {
            if (text == null || text.isNull()) {
                return;
            }
            if (level != GGML_LOG_LEVEL_CONT) {
                lineLevel = toLevel(level);
            }
            line.append(text.getString(StandardCharsets.UTF_8));
            int nl;
            while ((nl = line.indexOf("\n")) >= 0) {
                String msg = line.substring(0, nl);
                line.delete(0, nl + 1);
                if (lineLevel == Level.ERROR || lineLevel == Level.WARNING) {
                    NativeErrors.record(msg.strip());
                } else if (msg.startsWith("load_backend: loaded ")) {
                    NativeLibrary.noteBackendLoaded(msg);
                }
                NativeLogLines.deliver(msg);
                if (!msg.isEmpty() && LOG.isLoggable(lineLevel)) {
                    LOG.log(lineLevel, msg);
                }
            }
        }

        private static Level toLevel(int level) {
            if (level == GGML_LOG_LEVEL_ERROR) {
                return Level.ERROR;
            } else if (level == GGML_LOG_LEVEL_WARN) {
                return Level.WARNING;
            } else if (level == GGML_LOG_LEVEL_INFO) {
                return Level.DEBUG;
            }
            return Level.TRACE;
        }
    }
}
