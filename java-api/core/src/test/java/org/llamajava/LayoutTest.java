package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The module layout holds: the BOM pins every library module, core depends on no satellite, and
 * each API package has its overview.
 */
class LayoutTest {
    private static final Path CORE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path LIBRARIES = CORE.getParent();

    private static String artifactId(String pom) {
        // the project's own artifactId: the first one after </parent> (or the first one at all)
        int from = Math.max(0, pom.indexOf("</parent>"));
        Matcher m = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(pom);
        assertTrue(m.find(from), "no artifactId");
        return m.group(1);
    }

    private static List<String> all(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void theBomPinsEveryLibraryModuleAndTheNatives() throws IOException {
        String aggregator = Files.readString(LIBRARIES.resolve("pom.xml"));
        List<String> modules = all(Pattern.compile("<module>([^<]+)</module>"), aggregator);
        assertTrue(modules.contains("core") && modules.contains("bom"), modules.toString());
        String bom = Files.readString(LIBRARIES.resolve("bom/pom.xml"));
        assertFalse(bom.contains("<parent>"), "the BOM has no parent, so importing it brings nothing else");
        Set<String> pinned = new TreeSet<>(all(Pattern.compile(
                "<groupId>org\\.llamajava</groupId>\\s*<artifactId>([^<]+)</artifactId>"), bom));
        for (String module : modules) {
            if (module.equals("bom")) {
                continue;
            }
            String id = artifactId(Files.readString(LIBRARIES.resolve(module).resolve("pom.xml")));
            assertTrue(pinned.contains(id), "the BOM does not pin " + id + " (module " + module + "): " + pinned);
        }
        assertTrue(pinned.contains("llama-java-native"), pinned.toString());
        String rootPom = Files.readString(LIBRARIES.getParent().resolve("pom.xml"));
        Matcher v = Pattern.compile("<artifactId>llama-java-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(rootPom);
        assertTrue(v.find());
        assertTrue(bom.contains("<version>" + v.group(1) + "</version>"), "the BOM's version is the parent's");
    }

    @Test
    void coreDependsOnNoSatellite() throws IOException {
        String core = Files.readString(CORE.resolve("pom.xml"));
        List<String> ours = all(Pattern.compile("<groupId>org\\.llamajava</groupId>\\s*<artifactId>([^<]+)</artifactId>"),
                core.substring(core.indexOf("<dependencies>")));
        assertEquals(List.of("llama-java-native"), ours, "core's only llama-java dependency is the natives");
    }

    @Test
    void everyApiPackageHasAnOverview() throws IOException {
        Path src = CORE.resolve("src/main/java/org/llamajava");
        try (Stream<Path> dirs = Files.walk(src)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                boolean hasClasses;
                try (Stream<Path> files = Files.list(d)) {
                    hasClasses = files.anyMatch(f -> f.toString().endsWith(".java"));
                }
                if (hasClasses && !d.endsWith("presets")) {
                    assertTrue(Files.isRegularFile(d.resolve("package-info.java")), "no package-info.java in " + d);
                }
            }
        }
    }
}
