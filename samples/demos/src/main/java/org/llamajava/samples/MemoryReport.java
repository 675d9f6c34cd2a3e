package org.llamajava.samples;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;

/**
 * Process memory after loading a model and after a 1,000-token generation: resident set size
 * (from /proc/self/status) and Java heap in use. {@code ci/memory.sh} compares it with llama.cpp's
 * own process doing the same work.
 *
 * <p>{@code java -cp llama-java.jar org.llamajava.samples.MemoryReport MODEL [TOKENS]}
 */
public final class MemoryReport {
    private MemoryReport() {}

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[0]);
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        System.out.printf("start:        %s%n", usage());
        try (Model model = Model.load(path)) {
            System.out.printf("model loaded: %s%n", usage());
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(tokens + 16).threads(2).build());
                 Sequence s = ctx.newSequence();
                 Sampler sampler = Sampler.builder().temperature(0.8f).dist(1).build()) {
                int[] prompt = model.vocabulary().tokenize("Once upon a time");
                // no EOG stop: always generate the full count
                Completion c = s.generate(prompt, sampler, GenerateOptions.maxTokens(tokens));
                System.out.printf("generated %d: %s%n", c.tokens().length, usage());
            }
        }
    }

    private static String usage() throws IOException {
        long rss = 0;
        long hwm = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("VmHWM:")) {
                hwm = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        return String.format("RSS %7.1f MiB (peak %7.1f MiB), Java heap used %6.1f MiB", rss / 1024.0, hwm / 1024.0,
                heap / 1048576.0);
    }
}
