package org.llamajava.cli;

import java.io.IOException;

/** Where a chat's user lines come from: a pipe, or the terminal's line editor. */
interface LineSource {
    /** The next line (a user turn, or a slash command); null at the end of input. */
    String next() throws IOException;
}
