package org.llamajava.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.llamajava.Llama;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the llama-java version, the llama.cpp source it was built from (with the
 * pinned source's checksum) and its backend, the backends loaded at run time, and the CPU backend's
 * extra buffer types with whether Intel AMX kernels are used.
 */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        Properties p = properties();
        String backends;
        String cpu;
        try {
            backends = String.join(", ", Llama.backendNames());
            java.util.List<String> extra = Llama.cpuExtraBufferTypes();
            cpu = "CPU extra buffer types: " + (extra.isEmpty() ? "none" : String.join(", ", extra))
                    + (Llama.amxUsed() ? "; AMX: used (off with --no-repack)" : "; AMX: not used");
        } catch (RuntimeException | LinkageError e) {
            backends = "not loadable: " + e.getMessage();
            cpu = "CPU extra buffer types: unknown";
        }
        return new String[] {"llama-java " + p.getProperty("llama-java"),
                "llama.cpp " + p.getProperty("llama.cpp") + " (build: " + p.getProperty("backend") + ")",
                "backends: " + backends, cpu};
    }

    /**
     * version.properties (the llama-java version) and the native build's llama-build.properties
     * (the llama.cpp source and backend), with "unknown" for what the build did not provide.
     */
    static Properties properties() {
        Properties p = new Properties();
        load(p, "version.properties");
        Properties build = new Properties();
        load(build, "llama-build.properties");
        if (build.getProperty("llama.source.id") != null) {
            p.setProperty("llama.cpp", build.getProperty("llama.source.id"));
        }
        if (build.getProperty("llama.backend") != null) {
            p.setProperty("backend", build.getProperty("llama.backend"));
        }
        for (String k : new String[] {"llama-java", "llama.cpp", "backend"}) {
            String v = p.getProperty(k);
            if (v == null || v.isBlank() || v.contains("${")) {
                p.setProperty(k, "unknown");
            }
        }
        return p;
    }

    private static void load(Properties p, String resource) {
        try (InputStream in = VersionProvider.class.getResourceAsStream(resource)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // unknown versions
        }
    }
}
