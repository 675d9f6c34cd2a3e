package org.llamajava.gguf;

import java.util.Map;

/**
 * Metadata that llama.cpp checks with GGML_ASSERT while loading a model (which aborts the whole
 * process) instead of with an error: checked here first, by {@link GgufFile#checkLoadable}.
 */
final class AssertedMetadata {
    private AssertedMetadata() {}

    /** llama.cpp's LLAMA_MAX_LAYERS and LLAMA_MAX_EXPERTS. */
    private static final long MAX_LAYERS = 512;
    private static final long MAX_EXPERTS = 1024;

    /**
     * Throws for asserted-on metadata. Values of an unexpected type are left to llama.cpp, which
     * rejects those with an error.
     */
    static void check(GgufFile gguf, boolean vocabOnly) {
        String file = gguf.path().toAbsolutePath().toString();
        Map<String, Object> meta = gguf.metadata();
        // the vocabulary (also loaded vocab-only): llama_vocab::impl::load
        if (meta.get("tokenizer.ggml.tokens") instanceof java.util.List<?> tokens) {
            Map<Object, Integer> seen = new java.util.HashMap<>();
            for (int i = 0; i < tokens.size(); i++) {
                Object t = tokens.get(i);
                Integer before = seen.put("".equals(t) ? "[EMPTY_" + i + "]" : t, i);
                if (before != null) {
                    throw new GgufException("corrupt vocabulary in " + file + ": tokens " + before + " and " + i
                            + " are both '" + t + "'");
                }
            }
        }
        if ("bert".equals(gguf.getString("tokenizer.ggml.model"))
                && meta.get("tokenizer.ggml.token_type") instanceof java.util.List<?> types
                && types.contains(VocabularySpec.TYPE_BYTE)) {
            throw new GgufException("corrupt vocabulary in " + file + ": a WordPiece (bert) vocabulary has byte tokens");
        }
        String arch = gguf.architecture();
        if (vocabOnly || "clip".equals(arch)) {
            return;
        }
        // normalization epsilons: ggml's norm kernels GGML_ASSERT(eps >= 0) at the first decode (found by fuzzing)
        for (Map.Entry<String, Object> e : meta.entrySet()) {
            if (e.getKey().startsWith(arch + ".") && e.getKey().endsWith("epsilon") && e.getValue() instanceof Float eps
                    && !(eps >= 0f)) {
                throw new GgufException(e.getKey() + " is " + eps + " in " + file
                        + "; a normalization epsilon must be a number >= 0");
            }
        }
        // the hyperparameters: llama_model_base::load_hparams
        Long layers = unsigned(meta, arch + ".block_count");
        if (layers == null) {
            return; // missing or of another type: llama.cpp fails with an error
        }
        if (layers < 1 || layers > MAX_LAYERS) {
            throw new GgufException(arch + ".block_count is " + layers + " in " + file + "; llama.cpp supports 1 to "
                    + MAX_LAYERS + " layers");
        }
        long nextn = orZero(unsigned(meta, arch + ".nextn_predict_layers"));
        if (nextn > layers) {
            throw new GgufException(arch + ".nextn_predict_layers (" + nextn + ") exceeds " + arch + ".block_count ("
                    + layers + ") in " + file);
        }
        long experts = orZero(unsigned(meta, arch + ".expert_count"));
        long used = 0;
        Object u = meta.get(arch + ".expert_used_count");
        if (u instanceof java.util.List<?> perLayer) {
            if (perLayer.size() == layers) { // another length: llama.cpp fails with an error
                for (Object o : perLayer) {
                    used = Math.max(used, o instanceof Number n ? Integer.toUnsignedLong(n.intValue()) : 0);
                }
            }
        } else {
            used = orZero(unsigned(meta, arch + ".expert_used_count"));
        }
        if ((arch.equals("hunyuan_vl") || arch.equals("hunyuan-dense")) && experts <= 1) {
            experts = 0;
            used = 0;
        }
        long groups = orZero(unsigned(meta, arch + ".expert_group_count"));
        long groupsUsed = orZero(unsigned(meta, arch + ".expert_group_used_count"));
        boolean ok = experts <= MAX_EXPERTS && used <= experts;
        if (experts > 0) {
            ok &= used > 0 && groups < experts
                    && (groups <= 1 || (experts % groups == 0 && groupsUsed > 0 && groupsUsed < groups));
        } else {
            ok &= used == 0 && groups == 0;
        }
        if (!ok) {
            throw new GgufException("inconsistent mixture-of-experts metadata in " + file + ": expert_count " + experts
                    + ", expert_used_count " + used + ", expert_group_count " + groups + ", expert_group_used_count "
                    + groupsUsed);
        }
        Object scaling = meta.get(arch + ".rope.scaling.type");
        if (scaling instanceof String s && !java.util.List.of("none", "linear", "yarn", "longrope").contains(s)) {
            throw new GgufException("unknown " + arch + ".rope.scaling.type '" + s + "' in " + file);
        }
    }

    /** A UINT32 metadata value (GgufFile reads those as Long), or null if absent or of another type. */
    private static Long unsigned(Map<String, Object> meta, String key) {
        return meta.get(key) instanceof Long l ? l : null;
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }
}
