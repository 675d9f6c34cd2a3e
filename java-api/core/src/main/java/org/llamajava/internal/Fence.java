package org.llamajava.internal;

import java.lang.ref.Reference;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * Calls a native getter on a handle while keeping the handle's owner reachable, so that the
 * owner's {@link java.lang.ref.Cleaner} cannot free the native object during the call. For
 * getters off the per-token path (a capturing lambda allocates). Internal: not part of the API.
 */
public final class Fence {
    private Fence() {}

    public static <H, R> R get(Object owner, H handle, Function<H, R> getter) {
        try {
            return getter.apply(handle);
        } finally {
            Reference.reachabilityFence(owner);
        }
    }

    public static <H> int getInt(Object owner, H handle, ToIntFunction<H> getter) {
        try {
            return getter.applyAsInt(handle);
        } finally {
            Reference.reachabilityFence(owner);
        }
    }

    public static <H> long getLong(Object owner, H handle, ToLongFunction<H> getter) {
        try {
            return getter.applyAsLong(handle);
        } finally {
            Reference.reachabilityFence(owner);
        }
    }

    public static <H> boolean test(Object owner, H handle, Predicate<H> getter) {
        try {
            return getter.test(handle);
        } finally {
            Reference.reachabilityFence(owner);
        }
    }
}
