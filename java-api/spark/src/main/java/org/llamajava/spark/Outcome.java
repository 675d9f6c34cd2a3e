package org.llamajava.spark;

/**
 * One row's result from a shared model: a value, or the error that row got.
 *
 * @param value  the result, or null on error
 * @param error  what went wrong with this row, or null
 * @param tokens tokens of input the row took (0 if unknown)
 */
record Outcome<O>(O value, String error, int tokens) {
    static <O> Outcome<O> ok(O value, int tokens) {
        return new Outcome<>(value, null, tokens);
    }

    static <O> Outcome<O> failed(String error) {
        return new Outcome<>(null, error, 0);
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
