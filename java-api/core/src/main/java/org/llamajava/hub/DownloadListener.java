package org.llamajava.hub;

import java.net.URI;
import java.nio.file.Path;

/**
 * Told how a {@link ModelCache} download goes, for a progress bar or a log. Every method has a
 * do-nothing default; calls come on the thread that pulls.
 */
public interface DownloadListener {
    /** A listener that ignores everything. */
    DownloadListener NONE = new DownloadListener() {};

    /**
     * A download begins (it may resume a partial file).
     *
     * @param source where it comes from
     * @param target the file it goes to
     */
    default void started(URI source, Path target) {}

    /**
     * Bytes of the file so far.
     *
     * @param bytes the bytes the file holds now
     * @param total its full size, or -1 when the server does not say
     */
    default void progress(long bytes, long total) {}

    /**
     * Something worth telling the user, such as an offline fallback to a file pulled before.
     *
     * @param message the note
     */
    default void note(String message) {}

    /** The download that {@link #started} ended, complete or not (an exception then follows). */
    default void ended() {}
}
