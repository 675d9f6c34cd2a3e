package org.llamajava.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

/**
 * Every native jar holds the libraries its platform needs and the licence notices; the JNI library
 * is built for the platform; a broken jar is reported (the check can fail).
 */
class NativeJarContentsTest {
    private static final String PLATFORM = Loader.getPlatform();

    /** The jar (or folder) on the test classpath that holds this platform's libllama. */
    static Path nativeArtifactOnClasspath() throws URISyntaxException, IOException {
        String lib = "/org/llamajava/bindings/" + PLATFORM + "/" + NativeJarCheck.fileName(PLATFORM, "llama");
        URL url = null;
        for (URL u : java.util.Collections.list(NativeJarContentsTest.class.getClassLoader().getResources(lib.substring(1)))) {
            url = u;
        }
        assertNotNull(url, "no " + lib + " on the test classpath");
        String s = url.toString();
        if (s.startsWith("jar:")) {
            return Path.of(new java.net.URI(s.substring(4, s.indexOf("!/"))));
        }
        Path p = Path.of(url.toURI());
        return p.getParent().getParent().getParent().getParent().getParent(); // .../classes
    }

    @Test
    void theBuildPlatformsNativeJarIsComplete() throws Exception {
        Path artifact = nativeArtifactOnClasspath();
        String classifier = artifact.getFileName().toString().endsWith("-gpu.jar") ? PLATFORM + "-gpu" : PLATFORM;
        assertEquals(List.of(), NativeJarCheck.problems(artifact, classifier), artifact.toString());
    }

    @Test
    void theJniLibraryIsBuiltForThisPlatform() {
        Path classes = Path.of(System.getProperty("basedir", "."), "target", "classes", "org", "llamajava", "bindings", PLATFORM);
        assumeTrue(Files.isDirectory(classes), "not run from Maven's build folder");
        assertNotNull(NativeJarCheck.library(classes, PLATFORM, "jnillama"), "no JNI library in " + classes);
    }

    @Test
    void aJarWithoutTheNoticesOrALibraryIsReported(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("org/llamajava/bindings/linux-arm64"));
        for (String lib : List.of("llama", "llama-common", "ggml", "ggml-base")) {
            Files.writeString(folder.resolve("lib" + lib + ".so"), "x");
        }
        Files.writeString(folder.resolve("ggml-backends.txt"), "libggml-cpu-armv8.0_1.so\n");
        List<String> problems = NativeJarCheck.problems(tmp, "linux-arm64");
        assertTrue(problems.contains("missing library llamajava for linux-arm64"), problems.toString());
        assertTrue(problems.contains("ggml-backends.txt names libggml-cpu-armv8.0_1.so, which is not in the jar"), problems.toString());
        assertTrue(problems.contains("missing META-INF/licenses/llama.cpp-ggml-LICENSE.txt"), problems.toString());
        assertTrue(problems.contains("missing META-INF/LICENSE"), problems.toString());
        assertEquals(List.of("no folder org/llamajava/bindings/windows-x86_64"), NativeJarCheck.problems(tmp, "windows-x86_64"));
    }

    /**
     * Every llama-java-native-*-CLASSIFIER.jar in {@code -Dllama.native.jars=DIR} (the cross builds'
     * jars, ci/cross-arm64.sh); skipped without the property.
     */
    @Test
    void everyNativeJarInAFolderIsComplete() throws IOException {
        String dir = System.getProperty("llama.native.jars");
        assumeTrue(dir != null && !dir.isBlank(), "-Dllama.native.jars=DIR not given");
        Pattern name = Pattern.compile("llama-java-native-.+?-((?:linux|macosx|windows|android)-[a-z0-9_]+(?:-gpu)?)\\.jar");
        List<String> report = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> jars = Files.list(Path.of(dir))) {
            for (Path jar : jars.sorted().toList()) {
                Matcher m = name.matcher(jar.getFileName().toString());
                if (m.matches()) {
                    checked++;
                    for (String p : NativeJarCheck.problems(jar, m.group(1))) {
                        report.add(jar.getFileName() + ": " + p);
                    }
                }
            }
        }
        assertTrue(checked > 0, "no native jar in " + dir);
        assertFalse(report.size() > 0, String.join("\n", report));
    }
}
