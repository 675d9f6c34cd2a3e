package org.llamajava.spark;

import java.io.Serializable;
import org.llamajava.ModelParams;

/**
 * What a transformer asks an executor for: where the model is and how to load it. Two tasks with
 * equal specs share one loaded model (see {@link ExecutorModels}).
 *
 * @param source     a local path, a Hadoop URI ({@code hdfs://}, {@code s3a://}, {@code http(s)://},
 *                   ...), a Hugging Face reference ({@code ORG/REPO[:QUANT]}, {@code hf:ORG/REPO/FILE.gguf}),
 *                   or {@code sparkfiles:NAME} for a file given to {@code SparkContext.addFile}
 * @param sha256     the file's SHA-256 (hex), checked once per executor after a copy; null or
 *                   empty: not checked
 * @param gpuLayers  layers to offload ({@link ModelParams#ALL_LAYERS} for all)
 * @param useMmap    map the file instead of reading it
 * @param vocabOnly  load only the vocabulary (token counting)
 */
record ModelSpec(String source, String sha256, int gpuLayers, boolean useMmap, boolean vocabOnly)
        implements Serializable {

    ModelSpec {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("modelPath is not set: a local path, a Hadoop URI, ORG/REPO[:QUANT] or sparkfiles:NAME");
        }
        sha256 = sha256 == null || sha256.isBlank() ? null : sha256.strip().toLowerCase(java.util.Locale.ROOT);
    }

    ModelParams params() {
        return ModelParams.builder().gpuLayers(gpuLayers).useMmap(useMmap).vocabOnly(vocabOnly).build();
    }
}
