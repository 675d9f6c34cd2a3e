package org.llamajava.chat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.TestSupport;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;

/**
 * Random-weight chat models for tool and reasoning tests: a vocabulary (the real 32k Llama-2 one
 * when ../shared has it, else the tiny test one) plus the special tokens of the chat formats
 * tested, as their models have them, so that templates' markup tokenizes as it does for them.
 */
public final class ChatModels {
    /** Control tokens added to the vocabulary; the first ends a turn (EOS). */
    public static final List<String> SPECIALS = List.of("<|im_end|>", "<|im_start|>", "<tool_call>", "</tool_call>",
            "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|python_tag|>", "[TOOL_CALLS]", "<think>",
            "</think>", "<|begin_of_text|>");

    private ChatModels() {}

    /** Writes (once per folder) the tool model and returns its path. */
    public static synchronized Path toolModel(Path dir, boolean realVocabulary) {
        Path p = dir.resolve(realVocabulary ? "tool-32k.gguf" : "tool-tiny.gguf");
        if (Files.exists(p)) {
            return p;
        }
        VocabularySpec base = realVocabulary
                ? VocabularySpec.from(GgufFile.read(TestSupport.sharedModel("llama-2-tiny-random.gguf")))
                : TestSupport.tinyVocabulary();
        List<String> tokens = new ArrayList<>(base.tokens());
        int n = tokens.size() + SPECIALS.size();
        float[] scores = new float[n];
        int[] types = new int[n];
        System.arraycopy(base.scores(), 0, scores, 0, base.tokens().size());
        System.arraycopy(base.types(), 0, types, 0, base.tokens().size());
        for (int i = 0; i < SPECIALS.size(); i++) {
            types[tokens.size()] = VocabularySpec.TYPE_CONTROL;
            tokens.add(SPECIALS.get(i));
        }
        int eos = base.tokens().size();
        new LlamaModelWriter(ModelShape.tiny(), new VocabularySpec(tokens, scores, types, base.bos(), eos, base.unk()))
                .seed(17).write(p);
        return p;
    }
}
