package org.llamajava.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line flags in llama.cpp's style: {@code -m MODEL}, {@code --temp 0}, boolean
 * switches such as {@code --no-bos}, and positional arguments. Every flag must be declared.
 */
final class Args {
    /** A usage mistake: unknown flag, missing value, bad number. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final String[] raw;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> switches = new HashSet<>();
    private final List<String> positional = new ArrayList<>();

    Args(String[] raw) {
        this.raw = raw;
    }

    /**
     * Parses against the declared flags.
     *
     * @param valued   flags that take a value, each with its aliases, e.g. {"-m", "--model"}
     * @param booleans switches without a value
     */
    Args parse(String[][] valued, String... booleans) {
        Map<String, String> canonical = new HashMap<>();
        for (String[] names : valued) {
            for (String n : names) {
                canonical.put(n, names[0]);
            }
        }
        Set<String> bools = Set.of(booleans);
        for (int i = 0; i < raw.length; i++) {
            String a = raw[i];
            if (bools.contains(a)) {
                switches.add(a);
            } else if (canonical.containsKey(a)) {
                if (i + 1 >= raw.length) {
                    throw new UsageException("flag " + a + " needs a value");
                }
                values.put(canonical.get(a), raw[++i]);
            } else if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                throw new UsageException("unknown flag " + a);
            } else {
                positional.add(a);
            }
        }
        return this;
    }

    String get(String flag) {
        return values.get(flag);
    }

    String require(String flag, String what) {
        String v = values.get(flag);
        if (v == null) {
            throw new UsageException("missing " + flag + " " + what);
        }
        return v;
    }

    boolean has(String flag) {
        return switches.contains(flag);
    }

    int getInt(String flag, int def) {
        String v = values.get(flag);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be an integer, not '" + v + "'");
        }
    }

    long getLong(String flag, long def) {
        String v = values.get(flag);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be an integer, not '" + v + "'");
        }
    }

    float getFloat(String flag, float def) {
        String v = values.get(flag);
        if (v == null) {
            return def;
        }
        try {
            float f = Float.parseFloat(v);
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                throw new NumberFormatException();
            }
            return f;
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be a number, not '" + v + "'");
        }
    }

    List<String> positional() {
        return positional;
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
