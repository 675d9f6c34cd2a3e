package org.llamajava.embed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.llamajava.Pooling;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.GgufWriter;

/**
 * Reranking models for tests: a real BERT encoder (all-MiniLM-L6-v2) given a random
 * classification head ({@code cls.weight}, {@code cls.bias}, {@code cls.output.weight},
 * {@code cls.output.bias}: a dense layer with tanh, then one score) and rank pooling, as a
 * cross-encoder's GGUF has them. No real reranker can be downloaded here.
 */
public final class RerankModels {
    private RerankModels() {}

    /** Writes {@code out}: {@code encoder}'s weights and metadata, a random head, rank pooling, and an optional rerank template. */
    public static Path write(Path encoder, Path out, long seed, String rerankTemplate) {
        GgufFile in = GgufFile.read(encoder);
        String arch = in.architecture();
        long nEmbd = (Long) in.metadata().get(arch + ".embedding_length");
        try (GgufWriter w = new GgufWriter(); FileChannel ch = FileChannel.open(encoder, StandardOpenOption.READ)) {
            for (Map.Entry<String, Object> e : in.metadata().entrySet()) {
                String k = e.getKey();
                if (k.startsWith("GGUF.") || k.equals(arch + ".pooling_type")) {
                    continue;
                }
                w.putValue(k, e.getValue());
            }
            w.putUInt32(arch + ".pooling_type", Pooling.RANK.value());
            if (rerankTemplate != null) {
                w.putString("tokenizer.chat_template.rerank", rerankTemplate);
            }
            for (GgufFile.TensorInfo t : in.tensors()) {
                long at = in.dataOffset() + t.offset();
                w.addTensor(t.name(), t.type(), t.shape(), dst -> {
                    try {
                        long pos = at;
                        while (dst.hasRemaining()) {
                            int n = ch.read(dst, pos);
                            if (n < 0) {
                                throw new IOException("unexpected end of " + encoder);
                            }
                            pos += n;
                        }
                    } catch (IOException x) {
                        throw new UncheckedIOException(x);
                    }
                });
            }
            Random r = new Random(seed);
            float scale = (float) (1 / Math.sqrt(nEmbd));
            w.addTensor("cls.weight", GgmlType.F32, new long[] {nEmbd, nEmbd}, dst -> fill(dst, r, scale));
            w.addTensor("cls.bias", GgmlType.F32, new long[] {nEmbd}, dst -> fill(dst, r, 0.1f));
            w.addTensor("cls.output.weight", GgmlType.F32, new long[] {nEmbd, 1}, dst -> fill(dst, r, 1f));
            w.addTensor("cls.output.bias", GgmlType.F32, new long[] {1}, dst -> fill(dst, r, 0.1f));
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void fill(ByteBuffer dst, Random r, float scale) {
        ByteBuffer b = dst.order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 4) {
            b.putFloat((float) (r.nextGaussian() * scale));
        }
    }
}
