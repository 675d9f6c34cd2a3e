package org.llamajava.structured;

import org.llamajava.Completion;

/**
 * A typed value generated under its JSON Schema, with the generation it came from.
 *
 * @param value      the parsed value
 * @param json       the generated JSON text
 * @param completion the generation (tokens, timings, finish reason)
 * @param <T>        the value's type
 */
public record StructuredResult<T>(T value, String json, Completion completion) {}
