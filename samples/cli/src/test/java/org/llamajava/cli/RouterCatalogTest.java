package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's model names, as llama-server gives them: a pulled file {@code ORG/REPO/NAME-TAG.gguf}
 * is {@code ORG/REPO:TAG} (the tag as llama.cpp's {@code get_gguf_split_info} reads it: after the last
 * {@code -} or {@code .}, upper-cased; split parts other than the first, mmproj files and files without
 * a tag are not models of their own), a file at the top is its name, a sub-folder its name; and the
 * preset INI (sections, {@code [*]}, flags, {@code dedup-cache-models}).
 */
class RouterCatalogTest {
    @TempDir
    Path dir;

    private void touch(String... files) throws Exception {
        for (String f : files) {
            Path p = dir.resolve(f);
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[] {1});
        }
    }

    @Test
    void namesTheFolderAsLlamaServerNamesItsCacheAndModelsDir() throws Exception {
        touch("ggml-org/gemma-GGUF/gemma-3-1b-it-Q4_K_M.gguf", "ggml-org/gemma-GGUF/mmproj-gemma-F16.gguf",
                "ggml-org/big-GGUF/Big-q8_0-00001-of-00002.gguf", "ggml-org/big-GGUF/Big-q8_0-00002-of-00002.gguf",
                "ggml-org/notag-GGUF/notag.gguf", "plain-model.gguf", "kimi/kimi-00001-of-00002.gguf",
                "kimi/kimi-00002-of-00002.gguf");
        Map<String, Path> names = RouterCatalog.scan(dir);
        assertEquals(Set.of("ggml-org/gemma-GGUF:Q4_K_M", "ggml-org/big-GGUF:Q8_0", "plain-model", "kimi"),
                names.keySet());
        assertTrue(names.get("ggml-org/big-GGUF:Q8_0").toString().endsWith("00001-of-00002.gguf"));
        assertTrue(names.get("kimi").toString().endsWith("kimi-00001-of-00002.gguf"));
        assertEquals("F32", RouterCatalog.tag("stories260K-f32"));
        assertEquals("Q8_0", RouterCatalog.tag("tinygemma3.Q8_0"));
        assertEquals("", RouterCatalog.tag("stories260K"));
    }

    @Test
    void readsPresetsWithTheGlobalSectionFlagsAndDedup() throws Exception {
        touch("ggml-org/s-GGUF/s-F32.gguf", "ggml-org/t-GGUF/t-Q8_0.gguf");
        Path ini = dir.resolve("p.ini");
        Files.writeString(ini, "version = 1\n[*]\nc = 512\ndedup-cache-models = true\n\n; a comment\n"
                + "[mine]\nhf-repo = ggml-org/s-GGUF\nc = 256\njinja = true\nno-mmap = false\n\n"
                + "[ggml-org/t-GGUF:Q8_0]\nn-predict = 8\n\n[remote]\nhf-repo = other/not-pulled:Q4_0\n");
        Map<String, RouterCatalog.Entry> m = RouterCatalog.read(dir, ini);
        RouterCatalog.Entry mine = m.get("mine");
        assertEquals(RouterCatalog.Source.PRESET, mine.source());
        assertEquals(dir.resolve("ggml-org/s-GGUF/s-F32.gguf").toString(), mine.model());
        // the section's c over [*]'s; a false flag left out; router keys not passed on
        assertEquals(List.of("-c", "256", "--jinja"), mine.args());
        assertTrue(m.get("ggml-org/s-GGUF:F32").hidden(), "dedup hides the cache entry the preset stands for");
        RouterCatalog.Entry t = m.get("ggml-org/t-GGUF:Q8_0");
        assertFalse(t.hidden());
        assertEquals(RouterCatalog.Source.PRESET, t.source());
        assertEquals(dir.resolve("ggml-org/t-GGUF/t-Q8_0.gguf").toString(), t.model());
        assertEquals(List.of("-c", "512", "--n-predict", "8"), t.args());
        // not in the folder: the child's -m pulls the reference
        assertEquals("other/not-pulled:Q4_0", m.get("remote").model());
        assertNull(RouterCatalog.resolveRepo(dir, "other/not-pulled:Q4_0", null));
    }

    @Test
    void aSectionWithoutAModelIsAUsageError() throws Exception {
        Path ini = dir.resolve("bad.ini");
        Files.writeString(ini, "[lonely]\nc = 128\n");
        UsageException e = assertThrows(UsageException.class, () -> RouterCatalog.read(dir, ini));
        assertTrue(e.getMessage().contains("[lonely]") && e.getMessage().contains("model = FILE"), e.getMessage());
    }
}
