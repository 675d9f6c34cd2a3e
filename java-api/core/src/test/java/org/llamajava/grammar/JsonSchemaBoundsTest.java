package org.llamajava.grammar;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The bounds that keep llama.cpp's JSON Schema converter from being a CPU-time bomb or a native
 * stack overflow (issue #31): optional properties per object, properties in all, and the
 * conversion on a deep stack whatever the caller's.
 */
class JsonSchemaBoundsTest {
    private static String object(int n, boolean required) {
        StringBuilder sb = new StringBuilder("{\"type\":\"object\",\"properties\":{");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":{\"type\":\"string\"}");
        }
        sb.append('}');
        if (required) {
            sb.append(",\"required\":[");
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : ",").append("\"p").append(i).append('"');
            }
            sb.append(']');
        }
        return sb.append('}').toString();
    }

    @Test
    void tooManyOptionalPropertiesAreRefusedWithTheWayOut() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsonSchema.of(object(JsonSchema.MAX_OPTIONAL_PROPERTIES + 1, false)));
        assertTrue(e.getMessage().contains("optional properties") && e.getMessage().contains("required"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(object(5000, false)));
        // nested inside an array of another object too
        String nested = "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":"
                + object(JsonSchema.MAX_OPTIONAL_PROPERTIES + 1, false) + "}},\"required\":[\"items\"]}";
        assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(nested));
        assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(object(JsonSchema.MAX_PROPERTIES + 1, true)));
    }

    @Test
    void atTheBoundsItConvertsEvenOnATinyStack() throws Exception {
        // a thread with a 256 KiB stack: the native converter runs on a deep stack, not on this one
        AtomicReference<Object> out = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                String optional = JsonSchema.of(object(JsonSchema.MAX_OPTIONAL_PROPERTIES, false)).toGbnf();
                String required = JsonSchema.of(object(5000, true)).toGbnf();
                StringBuilder deep = new StringBuilder();
                for (int i = 0; i < JsonSchema.MAX_DEPTH / 2 - 2; i++) {
                    deep.append("{\"type\":\"array\",\"items\":");
                }
                deep.append("{\"type\":\"string\"}").append("}".repeat(JsonSchema.MAX_DEPTH / 2 - 2));
                String nested = JsonSchema.of(deep.toString()).toGbnf();
                out.set(new String[] {optional, required, nested});
            } catch (Throwable e) {
                out.set(e);
            }
        }, "tiny-stack", 256 << 10);
        t.start();
        t.join();
        if (out.get() instanceof Throwable e) {
            throw new AssertionError(e);
        }
        String[] g = (String[]) out.get();
        assertTrue(g[0].contains("p255"), "every optional property has its rule");
        assertTrue(g[1].contains("p4999"), "every required property is in the grammar");
        assertTrue(g[2].contains("root"), g[2]);
    }
}
