package org.llamajava.batch;

/** {@link BatchEngine#submit} refused a request: every slot is busy and the queue is full. Retry later. */
public final class QueueFullException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public QueueFullException(String message) {
        super(message);
    }
}
