package org.llamajava.server;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One conversation's stream, llama-server's stream session: the bytes of server-sent events a
 * streamed request carrying {@code X-Conversation-Id} sends, kept beyond its client's connection so
 * that a client can read them again from any byte offset ({@code GET /v1/stream?conv_id=&from=}),
 * following the generation while it runs. One producer appends (the request's own thread), any
 * number of readers wait for bytes on a condition (no polling). At most {@code maxBytes} are held:
 * past that the oldest bytes are dropped, and a read from below them has lost its offset.
 * Thread-safe.
 */
final class ConversationStream {
    /** What {@link #read} returns when nothing came within its wait (the stream goes on). */
    static final byte[] NOTHING = new byte[0];

    final String id;
    /** When it started, in seconds since the epoch. */
    final long startedAt = System.currentTimeMillis() / 1000;
    private final int maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The held bytes, a ring: {@link #size} of them from {@link #head}; grows up to {@link #maxBytes}. */
    private byte[] buf;
    private int head;
    private int size;
    /** Bytes dropped from the front (the offset of the first held byte). */
    private long dropped;
    private boolean done;
    /** When it finished: seconds since the epoch, and {@link System#nanoTime()}; 0 while it runs. */
    private long completedAt;
    private long completedNanos;
    private volatile boolean cancelled;
    /** What cancels the producer's generation, or null before it is set. */
    private Runnable onCancel;

    ConversationStream(String id, int maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        this.id = id;
        this.maxBytes = maxBytes;
        this.buf = new byte[Math.min(maxBytes, 16 * 1024)];
    }

    /**
     * Appends the producer's bytes and wakes the readers.
     *
     * @return false when the stream has finished (stopped, replaced or evicted): nothing is kept
     */
    boolean append(byte[] b) {
        return append(b, 0, b.length);
    }

    /** {@link #append(byte[])} of {@code len} bytes of {@code b} from {@code off}. */
    boolean append(byte[] b, int off, int len) {
        lock.lock();
        try {
            if (done) {
                return false;
            }
            if (len == 0) {
                return true;
            }
            if (len >= maxBytes) { // one piece over the limit: only its tail is kept
                int skip = len - maxBytes;
                dropped += size + skip;
                buf = new byte[maxBytes];
                System.arraycopy(b, off + skip, buf, 0, maxBytes);
                head = 0;
                size = maxBytes;
            } else {
                int over = size + len - maxBytes;
                if (over > 0) {
                    head = (head + over) % buf.length;
                    size -= over;
                    dropped += over;
                }
                grow(size + len);
                int at = (head + size) % buf.length;
                int first = Math.min(len, buf.length - at);
                System.arraycopy(b, off, buf, at, first);
                System.arraycopy(b, off + first, buf, 0, len - first);
                size += len;
            }
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Makes room for {@code n} bytes (at most {@link #maxBytes}), the held ones first in the new array. */
    private void grow(int n) {
        if (n <= buf.length) {
            return;
        }
        byte[] bigger = new byte[(int) Math.min(maxBytes, Math.max(n, 2L * buf.length))];
        copy(0, bigger, size);
        buf = bigger;
        head = 0;
    }

    /** Copies {@code n} held bytes from the {@code start}-th held byte into {@code to}. */
    private void copy(int start, byte[] to, int n) {
        int at = (head + start) % buf.length;
        int first = Math.min(n, buf.length - at);
        System.arraycopy(buf, at, to, 0, first);
        System.arraycopy(buf, 0, to, first, n - first);
    }

    /** Ends the stream (the generation ended, or it was stopped): readers get what is left, then the end. Idempotent. */
    void finish() {
        lock.lock();
        try {
            if (done) {
                return;
            }
            done = true;
            completedAt = System.currentTimeMillis() / 1000;
            completedNanos = System.nanoTime();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Stops it (llama-server's stop, or a newer request on the same conversation): cancels its generation, then finishes. */
    void cancel() {
        Runnable r;
        lock.lock();
        try {
            cancelled = true;
            r = onCancel;
        } finally {
            lock.unlock();
        }
        if (r != null) {
            r.run();
        }
        finish();
    }

    /** Sets what cancels the generation; run at once when it was already cancelled. */
    void onCancel(Runnable r) {
        boolean now;
        lock.lock();
        try {
            onCancel = r;
            now = cancelled;
        } finally {
            lock.unlock();
        }
        if (now) {
            r.run();
        }
    }

    /** Whether it was stopped. */
    boolean cancelled() {
        return cancelled;
    }

    /**
     * The bytes from offset {@code from}, at most {@code max} of them, waiting up to {@code waitNanos}
     * for some while none are there and the stream goes on.
     *
     * @return the bytes; {@link #NOTHING} when none came in time; null at the end (finished and
     *     all read), or when {@code from} is below the dropped bytes (the offset is lost)
     */
    byte[] read(long from, int max, long waitNanos) throws InterruptedException {
        lock.lock();
        try {
            long left = waitNanos;
            while (true) {
                if (from < dropped) {
                    return null;
                }
                long end = dropped + size;
                if (from < end) {
                    int n = (int) Math.min(max, end - from);
                    byte[] out = new byte[n];
                    copy((int) (from - dropped), out, n);
                    return out;
                }
                if (done) {
                    return null;
                }
                if (left <= 0) {
                    return NOTHING;
                }
                left = changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether it has finished. */
    boolean done() {
        lock.lock();
        try {
            return done;
        } finally {
            lock.unlock();
        }
    }

    /** The bytes it ever received (the offset after its last byte). */
    long totalBytes() {
        lock.lock();
        try {
            return dropped + size;
        } finally {
            lock.unlock();
        }
    }

    /** The bytes dropped from its front: reads from below this offset have lost it. */
    long droppedBytes() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** When it finished, in seconds since the epoch; 0 while it runs. */
    long completedAt() {
        lock.lock();
        try {
            return completedAt;
        } finally {
            lock.unlock();
        }
    }

    /** Whether it finished at least {@code ttlNanos} before {@code now} ({@link System#nanoTime()}). */
    boolean expired(long now, long ttlNanos) {
        lock.lock();
        try {
            return done && now - completedNanos >= ttlNanos;
        } finally {
            lock.unlock();
        }
    }
}
