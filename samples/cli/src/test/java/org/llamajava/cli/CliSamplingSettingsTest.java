package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.llamajava.SamplingSettings;
import picocli.CommandLine;

/**
 * The CLI maps its sampling flags onto core's {@link SamplingSettings}, as every front end does:
 * the same request (the server's, LangChain4j's and Spring AI's tests send it too) gives the same
 * settings, no flags give llama-server's defaults with a random seed, and a seed beyond 32 bits is
 * kept whole (llama.cpp then uses its low 32 bits).
 */
class CliSamplingSettingsTest {
    private static SamplingSettings settings(String... flags) {
        GenerateCommand g = new GenerateCommand();
        new CommandLine(g).parseArgs(flags);
        return g.sampling.settings();
    }

    @Test
    void theSameRequestGivesCoresSettings() {
        // the CLI has no frequency or presence penalty flags: the shared request without them
        assertEquals(SamplingSettings.builder().temperature(0.5f).topK(20).topP(0.9f).seed(5_000_000_000L).build(),
                settings("-m", "x.gguf", "--temp", "0.5", "--top-k", "20", "--top-p", "0.9", "-s", "5000000000"));
        assertEquals(SamplingSettings.defaults(), settings("-m", "x.gguf"));
        assertEquals(0.2f, settings("-m", "x.gguf", "--min-p", "0.2").minP());
    }
}
