package org.llamajava;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The child JVM of {@link LifecycleTest}: {@code exit MODEL} and {@code exit-closed MODEL} load
 * the model, generate and return from main (leaving everything open, or closing it);
 * {@code gc MODEL SECONDS} tokenizes, reads metadata and generates through objects nobody holds
 * while another thread keeps collecting garbage, so that a native object freed by its Cleaner
 * during a native call would crash the process or corrupt the result; {@code no-mmap MODEL N}
 * loads the model N times without mmap (its weights in anonymous memory), each time with a context
 * and a generation, and prints JavaCPP's resident-memory limit.
 */
public final class LifecycleChild {
    private LifecycleChild() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[1]);
        ContextParams params = ContextParams.builder().contextSize(64).batchSize(64).threads(1).build();
        switch (args[0]) {
            case "exit" -> {
                Model m = Model.load(model);
                Context ctx = m.createContext(params);
                Completion c = ctx.generate(m.vocabulary().tokenize("Once upon a time"), Sampler.greedy(), 8, null);
                System.out.println("generated " + Arrays.toString(c.tokens()));
            }
            case "exit-closed" -> {
                try (Model m = Model.load(model);
                     Context ctx = m.createContext(params);
                     Sampler s = Sampler.greedy()) {
                    Completion c = ctx.generate(m.vocabulary().tokenize("Once upon a time"), s, 8, null);
                    System.out.println("generated " + Arrays.toString(c.tokens()));
                }
            }
            case "gc" -> gcStress(model, params, Long.parseLong(args[2]));
            case "no-mmap" -> {
                int n = Integer.parseInt(args[2]);
                for (int i = 0; i < n; i++) {
                    try (Model m = Model.load(model, ModelParams.builder().useMmap(false).build());
                         Context ctx = m.createContext(params);
                         Sampler s = Sampler.greedy()) {
                        ctx.generate(m.vocabulary().tokenize("Once upon a time"), s, 4, null);
                    }
                }
                System.out.println("no-mmap cycles " + n + " ok; maxPhysicalBytes " + org.bytedeco.javacpp.Pointer.maxPhysicalBytes()
                        + ", resident " + (org.bytedeco.javacpp.Pointer.physicalBytes() >> 20) + " MiB");
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void gcStress(Path model, ContextParams params, long seconds) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 100_000) {
            sb.append("Once upon a time there was a little girl named Lily. ");
        }
        String text = sb.toString();
        int[] prompt;
        int expected;
        int metadata;
        int[] expectedTokens;
        try (Model m = Model.load(model); Context ctx = m.createContext(params); Sampler s = Sampler.greedy()) {
            expected = m.vocabulary().tokenize(text).length;
            metadata = m.metadata().size();
            prompt = m.vocabulary().tokenize("Once upon a time");
            expectedTokens = ctx.generate(prompt, s, 8, null).tokens();
        }
        Thread gc = new Thread(() -> {
            while (true) {
                System.gc();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gc");
        gc.setDaemon(true);
        gc.start();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        int rounds = 0;
        int bad = 0;
        while (System.nanoTime() < end) {
            // nothing holds the Model, Vocabulary, Context or Sampler while their native calls run
            if (Model.load(model).vocabulary().tokenize(text).length != expected) {
                bad++;
            }
            if (Model.load(model).metadata().size() != metadata) {
                bad++;
            }
            if (rounds % 10 == 0 && !Arrays.equals(expectedTokens, Model.load(model).createContext(params)
                    .generate(prompt, Sampler.greedy(), 8, null).tokens())) {
                bad++;
            }
            rounds++;
        }
        gc.interrupt();
        System.out.println("rounds " + rounds + " bad " + bad);
    }
}
