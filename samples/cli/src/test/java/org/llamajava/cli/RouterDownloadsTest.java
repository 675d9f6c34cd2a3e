package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.hub.ModelCache;

/**
 * {@link RouterDownloads} without a router: which names {@code POST /models} takes (llama-server's
 * {@code ORG/REPO[:TAG]}, nothing that leaves the models folder), and what {@code DELETE /models}
 * deletes and refuses (llama-server's messages and status codes).
 */
class RouterDownloadsTest {
    @TempDir
    Path tmp;

    @Test
    void takesOnlyHuggingFaceRepositoryNames() {
        for (String good : new String[] {"ggml-org/test-model-router-download:F16", "org/repo", "o.r-g/r_e.p-o:Q4_K_M"}) {
            assertEquals(good.split(":")[0], RouterDownloads.parseName(good).repo(), good);
        }
        for (String bad : new String[] {"../../etc", "org/../x", "a/b/c", "plain", "/etc/passwd", "org/x:../../y",
                "..\\x/y", "org/repo:", "org/.hidden", "https://example.invalid/a.gguf", "hf:org/repo/f.gguf",
                "org/repo.gguf", "org/r%2e%2e", "org/" + "x".repeat(300), " org/repo", "org/repo\n"}) {
            RouterError r = assertThrows(RouterError.class, () -> RouterDownloads.parseName(bad),
                    bad);
            assertEquals(400, r.status, bad);
            assertEquals("invalid_request_error", r.type);
        }
        RouterError empty = assertThrows(RouterError.class, () -> RouterDownloads.parseName(""));
        assertEquals(400, empty.status);
        assertTrue(empty.getMessage().contains("non-empty"));
    }

    @Test
    void deletesCacheModelsOnlyAndWhatTheyLeft() throws Exception {
        Path dir = tmp.resolve("models");
        Path split1 = dir.resolve("org/big-GGUF/big-Q8_0-00001-of-00002.gguf");
        Path split2 = dir.resolve("org/big-GGUF/big-Q8_0-00002-of-00002.gguf");
        Path other = dir.resolve("org/big-GGUF/big-F16.gguf");
        Path plain = dir.resolve("plain.gguf");
        for (Path p : List.of(split1, split2, other, plain)) {
            Files.createDirectories(p.getParent());
            Files.writeString(p, "x");
        }
        Files.writeString(split1.resolveSibling(split1.getFileName() + ".lock"), "");
        List<String> stopped = new ArrayList<>();
        int[] reloads = {0};
        RouterDownloads.Host host = new RouterDownloads.Host() {
            @Override
            public RouterCatalog.Entry entry(String name) {
                return RouterCatalog.read(dir, null).get(name);
            }

            @Override
            public void stopAndWait(String name) {
                stopped.add(name);
            }

            @Override
            public void reload() {
                reloads[0]++;
            }
        };
        RouterDownloads d = new RouterDownloads(new ModelCache(dir, "http://127.0.0.1:9/", null),
                new RouterEvents(new ObjectMapper(), 1, 1), host, 1, new ObjectMapper(),
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        assertEquals(Map.of("org/big-GGUF:Q8_0", split1, "org/big-GGUF:F16", other, "plain", plain),
                RouterCatalog.scan(dir));

        d.remove("org/big-GGUF:Q8_0");
        assertEquals(List.of("org/big-GGUF:Q8_0"), stopped);
        assertEquals(1, reloads[0]);
        assertFalse(Files.exists(split1));
        assertFalse(Files.exists(split2));
        assertFalse(Files.exists(split1.resolveSibling(split1.getFileName() + ".lock")));
        assertTrue(Files.exists(other), "another tag of the repository stays");

        d.remove("org/big-GGUF:F16");
        assertFalse(Files.exists(dir.resolve("org")), "empty folders are removed");
        assertTrue(Files.isDirectory(dir));

        RouterError notRemovable = assertThrows(RouterError.class, () -> d.remove("plain"));
        assertEquals(500, notRemovable.status);
        assertEquals("model name=plain is not removable (not from cache)", notRemovable.getMessage());
        RouterError missing = assertThrows(RouterError.class, () -> d.remove("org/none:F16"));
        assertEquals(500, missing.status);
        assertEquals("model name=org/none:F16 is not found", missing.getMessage());
        assertEquals(400, assertThrows(RouterError.class, () -> d.remove("")).status);
        assertTrue(Files.exists(plain));
        assertEquals(2, stopped.size());
    }
}
