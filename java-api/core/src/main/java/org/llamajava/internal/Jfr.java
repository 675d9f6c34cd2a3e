package org.llamajava.internal;

import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;

/**
 * Whether each of llama-java's JDK Flight Recorder events is on, checked before an event object is
 * made, so that code paths run per token allocate nothing while no recording wants the event.
 *
 * <p>Until a recording has started in the process ({@link FlightRecorder#isInitialized()}, a
 * static field), every check is false without touching JFR's metadata: an application that never
 * records pays one static read per check. Once a recording has started, each check is
 * {@link EventType#isEnabled()} of the event's type, looked up once. A runtime without the
 * {@code jdk.jfr} module (a jlink image without it) gets false from every check. Internal: not API.
 */
public final class Jfr {
    private static final boolean AVAILABLE = available();

    private Jfr() {}

    private static boolean available() {
        try {
            return ModuleLayer.boot().findModule("jdk.jfr").isPresent();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** The event types, looked up when first needed (after a recording has started). */
    private static final class Types {
        static final EventType MODEL_LOAD = type(ModelLoadEvent.class);
        static final EventType CONTEXT_CREATE = type(ContextCreateEvent.class);
        static final EventType DECODE = type(DecodeEvent.class);
        static final EventType GENERATION = type(GenerationEvent.class);
        static final EventType PROMPT_CACHE = type(PromptCacheEvent.class);
        static final EventType GRAMMAR_REJECTION = type(GrammarRejectionEvent.class);
        static final EventType SPECULATION = type(SpeculationEvent.class);
        static final EventType RPC_CALL = type(RpcCallEvent.class);

        private static EventType type(Class<? extends jdk.jfr.Event> c) {
            try {
                return EventType.getEventType(c);
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }
    }

    private static boolean recording() {
        try {
            return AVAILABLE && FlightRecorder.isInitialized();
        } catch (LinkageError e) {
            return false;
        }
    }

    private static boolean on(EventType t) {
        return t != null && t.isEnabled();
    }

    /** Whether {@link ModelLoadEvent} is on. */
    public static boolean modelLoad() {
        return recording() && on(Types.MODEL_LOAD);
    }

    /** Whether {@link ContextCreateEvent} is on. */
    public static boolean contextCreate() {
        return recording() && on(Types.CONTEXT_CREATE);
    }

    /** Whether {@link DecodeEvent} is on. */
    public static boolean decode() {
        return recording() && on(Types.DECODE);
    }

    /** Whether {@link GenerationEvent} is on. */
    public static boolean generation() {
        return recording() && on(Types.GENERATION);
    }

    /** Whether {@link PromptCacheEvent} is on. */
    public static boolean promptCache() {
        return recording() && on(Types.PROMPT_CACHE);
    }

    /** Whether {@link GrammarRejectionEvent} is on. */
    public static boolean grammarRejection() {
        return recording() && on(Types.GRAMMAR_REJECTION);
    }

    /** Whether {@link SpeculationEvent} is on. */
    public static boolean speculation() {
        return recording() && on(Types.SPECULATION);
    }

    /** Whether {@link RpcCallEvent} is on. */
    public static boolean rpcCall() {
        return recording() && on(Types.RPC_CALL);
    }
}
