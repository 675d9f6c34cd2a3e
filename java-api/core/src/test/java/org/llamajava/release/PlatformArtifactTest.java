package org.llamajava.release;

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
import org.junit.jupiter.api.Test;

/**
 * The release artifacts as declared: the -platform aggregators depend on every published classifier
 * (those the BOM pins), POM metadata for Maven Central, the licence, a module name for every jar.
 */
class PlatformArtifactTest {
    private static final Path CORE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path ROOT = CORE.getParent().getParent();
    private static final Pattern NATIVE = Pattern.compile(
            "<artifactId>llama-java-native</artifactId>\\s*<version>[^<]+</version>\\s*<classifier>([^<]+)</classifier>");

    private static final Pattern JNI = Pattern.compile(
            "<artifactId>llama-java</artifactId>\\s*<version>[^<]+</version>\\s*<classifier>([^<]+)</classifier>");

    /** The classifiers of llama-java's own JNI jars ({@code llama-java:CLASSIFIER}) a POM names. */
    private static Set<String> jniClassifiers(String pom) {
        Set<String> out = new TreeSet<>();
        Matcher m = JNI.matcher(pom);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static String read(String path) throws IOException {
        return Files.readString(ROOT.resolve(path));
    }

    private static Set<String> nativeClassifiers(String pom) {
        Set<String> out = new TreeSet<>();
        Matcher m = NATIVE.matcher(pom);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void thePlatformArtifactDependsOnEveryPublishedCpuClassifier() throws IOException {
        Set<String> bom = nativeClassifiers(read("java-api/bom/pom.xml"));
        Set<String> cpu = new TreeSet<>(bom);
        cpu.removeIf(c -> c.endsWith("-gpu"));
        assertTrue(cpu.containsAll(List.of("linux-x86_64", "linux-arm64")), cpu.toString());
        String platform = read("java-api/platform/pom.xml");
        assertEquals(cpu, nativeClassifiers(platform), "llama-java-platform's classifiers are the BOM's CPU ones");
        // each platform's JNI library comes in llama-java's jar of the same classifier (JavaCPP's convention)
        assertEquals(cpu, jniClassifiers(platform), "llama-java-platform brings llama-java:CLASSIFIER for each");
        assertEquals(bom, jniClassifiers(read("java-api/bom/pom.xml")), "the BOM pins llama-java:CLASSIFIER for each");
        assertTrue(platform.contains("<artifactId>llama-java</artifactId>"), "llama-java-platform brings the API");
        // the core's own native dependency (classifier from an OS-activated profile, which Gradle ignores) is excluded
        Matcher core = Pattern.compile("<artifactId>llama-java</artifactId>.*?</dependency>", Pattern.DOTALL).matcher(platform);
        assertTrue(core.find());
        assertTrue(core.group().contains("<exclusion>") && core.group().contains("llama-java-native"), core.group());
    }

    @Test
    void theGpuPlatformArtifactSwapsInTheCudaJar() throws IOException {
        Set<String> bom = nativeClassifiers(read("java-api/bom/pom.xml"));
        String gpu = read("java-api/platform-gpu/pom.xml");
        Set<String> expected = new TreeSet<>(bom);
        expected.removeIf(c -> bom.contains(c + "-gpu")); // a -gpu jar replaces its CPU jar
        assertEquals(expected, nativeClassifiers(gpu));
        assertEquals(expected, jniClassifiers(gpu), "llama-java-platform-gpu brings llama-java:CLASSIFIER for each");
        assertTrue(expected.contains("linux-x86_64-gpu"), expected.toString());
        // the core's own (CPU) native dependency is excluded, so that two jars never fill one folder
        Matcher core = Pattern.compile("<artifactId>llama-java</artifactId>.*?</dependency>", Pattern.DOTALL).matcher(gpu);
        assertTrue(core.find());
        assertTrue(core.group().contains("<exclusion>") && core.group().contains("llama-java-native"), core.group());
    }

    @Test
    void theCoreBuildsAJniJarPerClassifier() throws IOException {
        String core = read("java-api/core/pom.xml");
        Matcher jar = Pattern.compile("<id>platform-jar</id>.*?</execution>", Pattern.DOTALL).matcher(core);
        assertTrue(jar.find(), "java-api/core builds no platform jar");
        assertTrue(jar.group().contains("<classifier>${javacpp.platform}${javacpp.platform.extension}</classifier>")
                && jar.group().contains("<include>org/llamajava/bindings/${javacpp.platform}/**</include>"), jar.group());
    }

    @Test
    void thePomsCarryWhatMavenCentralRequires() throws IOException {
        for (String pom : List.of("pom.xml", "java-api/bom/pom.xml")) {
            String text = read(pom);
            for (String tag : List.of("<url>", "<licenses>", "<name>Apache-2.0</name>", "<developers>", "<scm>",
                    "<connection>", "central-publishing-maven-plugin", "maven-gpg-plugin")) {
                assertTrue(text.contains(tag), pom + " lacks " + tag);
            }
        }
        String parent = read("pom.xml");
        assertTrue(parent.contains("<project.build.outputTimestamp>"), "reproducible builds need project.build.outputTimestamp");
        for (String plugin : List.of("maven-source-plugin", "maven-javadoc-plugin", "cyclonedx-maven-plugin")) {
            assertTrue(parent.contains("<artifactId>" + plugin + "</artifactId>"), plugin);
        }
    }

    @Test
    void theLicenceAndNoticesAreThere() throws IOException {
        String licence = read("LICENSE");
        assertTrue(licence.contains("Apache License") && licence.contains("Version 2.0, January 2004"));
        String notices = read("THIRD-PARTY-NOTICES");
        for (String component : List.of("llama.cpp", "ggml", "nlohmann/json", "cpp-httplib", "stb_image", "miniaudio", "JavaCPP")) {
            assertTrue(notices.contains(component), "THIRD-PARTY-NOTICES does not name " + component);
        }
        assertFalse(Files.exists(ROOT.resolve("licenses")), "llama.cpp's licence texts are copied at build time, not committed");
    }

    @Test
    void everyJarHasAModuleName() throws IOException {
        List<String> missing = new ArrayList<>();
        for (String pom : List.of("native/pom.xml", "java-api/core/pom.xml", "java-api/server/pom.xml",
                "java-api/langchain4j/pom.xml", "java-api/platform/pom.xml", "java-api/platform-gpu/pom.xml",
                "samples/cli/pom.xml", "samples/demos/pom.xml")) {
            if (!read(pom).contains("<Automatic-Module-Name>org.llamajava")) {
                missing.add(pom);
            }
        }
        assertEquals(List.of(), missing, "no Automatic-Module-Name");
    }

    /** docs/installation.md's platforms table has a row for every native classifier the BOM pins. */
    @Test
    void thePlatformsTableNamesEveryClassifier() throws IOException {
        String installation = read("docs/installation.md");
        for (String c : nativeClassifiers(read("java-api/bom/pom.xml"))) {
            assertTrue(installation.contains("| `" + c + "`"),
                    "docs/installation.md's platforms table has no row for " + c);
        }
    }
}
