package org.llamajava.release;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Manifest;

/**
 * What a native jar ({@code llama-java-native-VERSION-PLATFORM.jar}, or the folder it is made of)
 * must hold: the libraries its platform needs, in the platform's folder where JavaCPP's Loader looks,
 * and the licence notices. Libraries may be added (ggml-rpc, mtmd, ...): only the required set is
 * checked. Used by {@link NativeJarContentsTest} for the build platform's jar and for every jar in a
 * folder (the cross builds' jars, {@code -Dllama.native.jars=DIR}).
 */
public final class NativeJarCheck {
    private NativeJarCheck() {}

    /** The libraries every build of a platform holds (file names without prefix and suffix). */
    static final List<String> REQUIRED = List.of("llama", "llama-common", "ggml", "ggml-base", "llamajava");

    /** Problems found in a jar file or a folder laid out as one; empty when it is complete. */
    public static List<String> problems(Path jarOrDir, String classifier) throws IOException {
        if (Files.isDirectory(jarOrDir)) {
            return problemsIn(jarOrDir, classifier);
        }
        try (FileSystem fs = FileSystems.newFileSystem(jarOrDir, Map.of())) {
            return problemsIn(fs.getPath("/"), classifier);
        }
    }

    private static List<String> problemsIn(Path root, String classifier) throws IOException {
        List<String> problems = new ArrayList<>();
        // the GPU jar uses the CPU platform's folder, so that one replaces the other
        String platform = classifier.replaceFirst("-gpu$", "");
        Path folder = root.resolve("org/llamajava/bindings/" + platform);
        if (!Files.isDirectory(folder)) {
            return List.of("no folder org/llamajava/bindings/" + platform);
        }
        for (String lib : REQUIRED) {
            if (library(folder, platform, lib) == null) {
                problems.add("missing library " + lib + " for " + platform);
            }
        }
        // the CPU backend: linked in (host-native), or loadable variants listed in ggml-backends.txt
        Path list = folder.resolve("ggml-backends.txt");
        if (Files.exists(list)) {
            List<String> backends = Files.readAllLines(list, StandardCharsets.UTF_8).stream()
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
            for (String b : backends) {
                if (!Files.isRegularFile(folder.resolve(b))) {
                    problems.add("ggml-backends.txt names " + b + ", which is not in the jar");
                }
            }
            if (backends.stream().noneMatch(b -> b.contains("ggml-cpu"))) {
                problems.add("ggml-backends.txt lists no CPU backend: " + backends);
            }
            if (classifier.endsWith("-gpu") && backends.stream().noneMatch(b -> b.contains("ggml-cuda"))) {
                problems.add("a -gpu jar without the CUDA backend: " + backends);
            }
        } else if (library(folder, platform, "ggml-cpu") == null) {
            problems.add("no CPU backend: neither ggml-cpu nor ggml-backends.txt");
        }
        checkText(root, "META-INF/LICENSE", "Apache License", problems);
        checkText(root, "META-INF/THIRD-PARTY-NOTICES", "llama.cpp", problems);
        checkText(root, "META-INF/licenses/llama.cpp-ggml-LICENSE.txt", "The ggml authors", problems);
        checkText(root, "META-INF/licenses/nlohmann-json-LICENSE.txt", "MIT", problems);
        checkText(root, "META-INF/licenses/cpp-httplib-LICENSE.txt", "MIT", problems);
        Path manifest = root.resolve("META-INF/MANIFEST.MF");
        if (Files.exists(manifest)) { // a packaged jar (a folder has no manifest yet)
            try (InputStream in = Files.newInputStream(manifest)) {
                String name = new Manifest(in).getMainAttributes().getValue("Automatic-Module-Name");
                String expected = "org.llamajava.natives." + classifier.replace('-', '.');
                if (!expected.equals(name)) {
                    problems.add("Automatic-Module-Name is " + name + ", not " + expected);
                }
            }
        }
        return problems;
    }

    /** The usual file name of a library on a platform: libllama.so, libllama.dylib, llama.dll. */
    static String fileName(String platform, String name) {
        return platform.startsWith("windows") ? name + ".dll"
                : platform.startsWith("macosx") ? "lib" + name + ".dylib" : "lib" + name + ".so";
    }

    /** The library file of a platform, e.g. libllama.so, libllama.dylib or llama.dll (or libllama.dll). */
    static Path library(Path folder, String platform, String name) {
        List<String> candidates = platform.startsWith("windows")
                ? List.of(name + ".dll", "lib" + name + ".dll")
                : platform.startsWith("macosx") ? List.of("lib" + name + ".dylib") : List.of("lib" + name + ".so");
        for (String c : candidates) {
            Path p = folder.resolve(c);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static void checkText(Path root, String file, String expected, List<String> problems) throws IOException {
        Path p = root.resolve(file);
        if (!Files.isRegularFile(p)) {
            problems.add("missing " + file);
        } else if (!Files.readString(p, StandardCharsets.ISO_8859_1).contains(expected)) {
            problems.add(file + " does not contain '" + expected + "'");
        }
    }
}
