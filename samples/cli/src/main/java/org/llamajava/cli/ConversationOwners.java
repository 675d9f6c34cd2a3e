package org.llamajava.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which model serves each conversation's stream in router mode (llama-server's conv_models): a
 * request with {@code X-Conversation-Id} is remembered before it waits for its model, so that the
 * stream routes ({@code /v1/stream?conv_id=}, {@code /v1/streams/lookup}) go to the child that holds
 * the stream, and a stop while the model loads cancels the waiting request: each registration has a
 * ticket, which a stop (or a newer request on the same conversation) makes stale. At most
 * {@link #MAX} conversations are remembered, the least recently used forgotten first. Thread-safe.
 */
final class ConversationOwners {
    /** Conversations remembered at most. */
    static final int MAX = 4096;

    private record Owner(String model, long ticket) {}

    private final int max;
    private final Map<String, Owner> owners;
    private long next = 1;

    ConversationOwners() {
        this(MAX);
    }

    ConversationOwners(int max) {
        this.max = max;
        this.owners = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Owner> eldest) {
                return size() > ConversationOwners.this.max;
            }
        };
    }

    /**
     * Remembers that {@code model} serves the conversation.
     *
     * @return the registration's ticket, or 0 (nothing remembered) when either is null or empty
     */
    synchronized long remember(String conversation, String model) {
        if (conversation == null || conversation.isEmpty() || model == null || model.isEmpty()) {
            return 0;
        }
        long ticket = next++;
        owners.put(conversation, new Owner(model, ticket));
        return ticket;
    }

    /** Whether the registration still stands: false after a stop, or a newer request on the conversation. */
    synchronized boolean alive(String conversation, long ticket) {
        Owner o = owners.get(conversation);
        return o != null && o.ticket() == ticket;
    }

    /** The model that serves the conversation, or null. */
    synchronized String model(String conversation) {
        Owner o = conversation == null ? null : owners.get(conversation);
        return o == null ? null : o.model();
    }

    /** Forgets the conversation (its stream is stopped). */
    synchronized void forget(String conversation) {
        if (conversation != null) {
            owners.remove(conversation);
        }
    }

    /** How many conversations it remembers. */
    synchronized int size() {
        return owners.size();
    }
}
