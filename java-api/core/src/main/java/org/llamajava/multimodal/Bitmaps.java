package org.llamajava.multimodal;

import static org.llamajava.bindings.global.mtmd.*;

import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.llamajava.LlamaException;
import org.llamajava.bindings.mtmd.mtmd_bitmap;
import org.llamajava.bindings.mtmd.mtmd_context;
import org.llamajava.bindings.mtmd.mtmd_helper_bitmap_wrapper;
import org.llamajava.bindings.mtmd.mtmd_helper_init_opt;
import org.llamajava.internal.NativeErrors;

/** {@link Media} as mtmd's bitmaps, and the keys its chunks are cached under. */
final class Bitmaps {
    /** Where mtmd would look for ffmpeg to decode a video: nowhere (llama-java takes images and audio). */
    private static final String NO_FFMPEG = "/nonexistent/llama-java-has-no-video-support";

    private Bitmaps() {}

    /** The cache key of a media chunk with mtmd's content id {@code id} (empty: none), the {@code index}th chunk of its prompt. */
    static long key(String id, long index) {
        if (id.isEmpty()) {
            // no content id: never equal to anything held before
            return System.nanoTime() ^ (index * 0x9E3779B97F4A7C15L) ^ System.identityHashCode(id);
        }
        long h = 1125899906842597L;
        for (int i = 0; i < id.length(); i++) {
            h = 31 * h + id.charAt(i);
        }
        return h;
    }

    /**
     * The bitmap mtmd reads {@code m} from: decoded from its encoded bytes (refusing video), or
     * made from its RGB pixels or PCM samples; the caller frees it.
     */
    static mtmd_bitmap of(mtmd_context ctx, Media m) {
        mtmd_bitmap b;
        if (m.encoded() != null) {
            byte[] data = m.encoded();
            try (BytePointer buf = new BytePointer(data);
                 mtmd_helper_init_opt opt = mtmd_helper_init_opt_default();
                 BytePointer noFfmpeg = new BytePointer(NO_FFMPEG, StandardCharsets.UTF_8)) {
                opt.video_params().ffmpeg_bin_dir(noFfmpeg);
                NativeErrors.clear();
                mtmd_helper_bitmap_wrapper w = mtmd_helper_bitmap_init_from_buf(ctx, buf, data.length, false, opt);
                try (w) {
                    if (w.video_ctx() != null && !w.video_ctx().isNull()) {
                        mtmd_helper_video_free(w.video_ctx());
                        if (w.bitmap() != null && !w.bitmap().isNull()) {
                            mtmd_bitmap_free(w.bitmap());
                        }
                        throw new IllegalArgumentException("unsupported media type: " + m + " is a video");
                    }
                    b = w.bitmap();
                }
            }
            if (b == null || b.isNull()) {
                throw new LlamaException("could not decode " + m + ": a corrupt, truncated or unsupported "
                        + (m.type() == MediaType.IMAGE ? "image" : "audio file") + NativeErrors.suffix());
            }
            return b;
        }
        if (m.rgb() != null) {
            try (BytePointer px = new BytePointer(m.rgb())) {
                b = mtmd_bitmap_init(m.width(), m.height(), px);
            }
        } else {
            try (FloatPointer pcm = new FloatPointer(m.pcm())) {
                b = mtmd_bitmap_init_from_audio(m.pcm().length, pcm);
            }
        }
        if (b == null || b.isNull()) {
            throw new LlamaException("mtmd could not make a bitmap of " + m);
        }
        try (BytePointer id = new BytePointer(m.id(), StandardCharsets.UTF_8)) {
            mtmd_bitmap_set_id(b, id);
        }
        return b;
    }
}
