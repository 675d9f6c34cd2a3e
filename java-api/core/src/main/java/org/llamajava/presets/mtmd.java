package org.llamajava.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * JavaCPP preset for llama.cpp's multimodal library {@code libmtmd}: {@code mtmd.h} (projector
 * contexts, bitmaps, tokenizing text with media into chunks, encoding chunks) and
 * {@code mtmd-helper.h} (bitmaps from files and buffers, evaluating chunks into a llama context).
 * It inherits {@link llama}, so that the llama and ggml types those headers use are the ones
 * already bound in {@code org.llamajava.bindings}.
 *
 * <p>The build parses these headers into {@code org.llamajava.bindings.mtmd} (classes per struct
 * and callback) and {@code org.llamajava.bindings.global.mtmd} (functions and constants); those
 * sources are generated and never edited by hand. The C++-only conveniences at the end of both
 * headers (smart pointers, {@code std::map} results) are left out.
 */
@Properties(
    inherit = llama.class,
    target = "org.llamajava.bindings.mtmd",
    global = "org.llamajava.bindings.global.mtmd",
    value = {
        @Platform(
            include = {"mtmd.h", "mtmd-helper.h"},
            link = "mtmd"),
    })
public class mtmd implements InfoMapper {
    @Override
    public void map(InfoMap infoMap) {
        infoMap
            .put(new Info("MTMD_API").cppTypes().annotations())
            // the headers' C++ tails (std::unique_ptr wrappers, std::map results) and the
            // extern "C" braces: the C API is all the Java API uses
            .put(new Info("__cplusplus").define(false))
            .put(new Info("mtmd_get_memory_usage").skip());
    }
}
