package org.llamajava.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * JavaCPP preset for llama.cpp: all of {@code llama.h}, plus the parts of ggml the API needs
 * ({@code ggml.h} for tensors and logging, {@code ggml-backend.h} for backend and device
 * enumeration, {@code ggml-cpu.h} and {@code ggml-opt.h} because {@code llama.h}'s declarations use
 * them), {@code gguf.h} for reading and writing GGUF files, and {@code llamajava.h}, llama-java's own
 * small C shim (built by {@code native/}) over llama.cpp's common chat-template API.
 *
 * <p>The build parses these headers into {@code org.llamajava.bindings} (classes per struct and
 * callback) and {@code org.llamajava.bindings.global.llama} (functions and constants). Those
 * sources are generated and never edited by hand; this class says only what the parser cannot
 * guess.
 */
@Properties(
    target = "org.llamajava.bindings",
    global = "org.llamajava.bindings.global.llama",
    value = {
        @Platform(
            include = {"ggml.h", "ggml-cpu.h", "ggml-backend.h", "ggml-opt.h", "gguf.h", "llama.h", "llamajava.h"},
            link = {"ggml-base", "ggml", "llama", "llamajava"},
            preload = {"ggml-cpu", "llama-common"}),
        // Windows: a DLL resolves every symbol when it is linked, so the ggml-cpu.h functions need
        // ggml-cpu's import library (elsewhere they resolve when loaded, from the preloaded ggml-cpu).
        // Built with MinGW-w64 only (ci/cross-windows.sh), whose C++ runtime DLLs are preloaded first;
        // never loaded by a JVM on Windows.
        @Platform(
            value = "windows",
            link = {"ggml-base", "ggml", "ggml-cpu", "llama", "llamajava"},
            preload = {"libwinpthread-1", "libgcc_s_seh-1", "libstdc++-6", "llama-common"}),
    })
public class llama implements InfoMapper {

    /** ggml's handle typedefs ({@code typedef struct X * X_t}) and the struct each points to. */
    private static final String[][] HANDLES = {
        {"ggml_backend_t", "ggml_backend"},
        {"ggml_backend_buffer_t", "ggml_backend_buffer"},
        {"ggml_backend_buffer_type_t", "ggml_backend_buffer_type"},
        {"ggml_backend_dev_t", "ggml_backend_device"},
        {"ggml_backend_event_t", "ggml_backend_event"},
        {"ggml_backend_reg_t", "ggml_backend_reg"},
        {"ggml_backend_sched_t", "ggml_backend_sched"},
        {"ggml_threadpool_t", "ggml_threadpool"},
        {"ggml_opt_dataset_t", "ggml_opt_dataset"},
        {"ggml_opt_context_t", "ggml_opt_context"},
        {"ggml_opt_result_t", "ggml_opt_result"},
        {"llama_memory_t", "llama_memory_i"},
    };

    @Override
    public void map(InfoMap infoMap) {
        for (String[] h : HANDLES) {
            infoMap.put(new Info(h[0]).valueTypes(h[1]).pointerTypes("@ByPtrPtr " + h[1]));
        }
        infoMap
            // export and attribute macros
            .put(new Info("LLAMA_API", "GGML_API", "GGML_BACKEND_API", "GGML_RESTRICT", "GGML_NORETURN",
                "restrict", "__restrict__", "__restrict")
                .cppTypes().annotations())
            .put(new Info("DEPRECATED").cppText("#define DEPRECATED(func, hint) func"))
            .put(new Info("GGML_DEPRECATED").cppText("#define GGML_DEPRECATED(func, hint) func"))
            .put(new Info("GGML_ATTRIBUTE_FORMAT").cppText("#define GGML_ATTRIBUTE_FORMAT(...)"))
            .put(new Info("defined(_WIN32) && !defined(__MINGW32__)", "_WIN32", "__CUDACC__",
                "UINTPTR_MAX == 0xFFFFFFFF").define(false))
            // types that share their name with a function: C++ must spell them "enum X"
            .put(new Info("llama_context_params::pooling_type").javaText(
                "public native @Cast(\"enum llama_pooling_type\") int pooling_type();\n"
                + "public native llama_context_params pooling_type(@Cast(\"enum llama_pooling_type\") int setter);"))
            .put(new Info("llama_pooling_type(const llama_context*)").javaText(
                "public static native @Cast(\"enum llama_pooling_type\") int llama_pooling_type(@Const llama_context ctx);"))
            .put(new Info("llama_vocab_type(const llama_vocab*)").javaText(
                "public static native @Cast(\"enum llama_vocab_type\") int llama_vocab_type(@Const llama_vocab vocab);"))
            .put(new Info("ggml_backend_dev_props::type").javaText(
                "public native @Cast(\"enum ggml_backend_dev_type\") int type();\n"
                + "public native ggml_backend_dev_props type(@Cast(\"enum ggml_backend_dev_type\") int setter);"))
            .put(new Info("ggml_backend_dev_type(ggml_backend_dev_t)").javaText(
                "public static native @Cast(\"enum ggml_backend_dev_type\") int ggml_backend_dev_type(ggml_backend_device device);"))
            .put(new Info("ggml_backend_dev_by_type").javaText(
                "public static native ggml_backend_device ggml_backend_dev_by_type("
                + "@Cast(\"enum ggml_backend_dev_type\") int type);"))
            .put(new Info("ggml_backend_init_by_type").javaText(
                "public static native ggml_backend ggml_backend_init_by_type("
                + "@Cast(\"enum ggml_backend_dev_type\") int type, String params);"))
            .put(new Info("ggml_guid", "ggml_guid_t", "ggml_guid_matches", "ggml_backend_guid").skip())
            .put(new Info("ggml_backend_graph_copy", "ggml_backend_graph_copy_free", "ggml_backend_meta_split_state",
                "ggml_backend_meta_get_split_state_t", "ggml_backend_meta_device").skip())
            // macros that are code, not constants
            .put(new Info("GGML_UNUSED", "GGML_UNUSED_VARS", "GGML_PAD", "GGML_UNREACHABLE", "GGML_ABORT",
                "GGML_ASSERT", "GGML_TENSOR_LOCALS_1", "GGML_TENSOR_LOCALS_2", "GGML_TENSOR_LOCALS_3",
                "GGML_TENSOR_LOCALS", "GGML_TENSOR_UNARY_OP_LOCALS", "GGML_TENSOR_BINARY_OP_LOCALS",
                "GGML_TENSOR_TERNARY_OP_LOCALS", "GGML_TENSOR_BINARY_OP_LOCALS01", "GGML_MEM_ALIGN").skip())
            .put(new Info("GGUF_MAGIC", "GGUF_KEY_GENERAL_ALIGNMENT").javaText(""))
            // variadic or training-only declarations the API does not use
            .put(new Info("ggml_abort", "ggml_log_internal").skip())
            // declared in ggml-cpu.h but defined nowhere in the pinned source: on Linux the binding linked
            // and would have failed only when called; a Windows DLL cannot link with it
            .put(new Info("ggml_threadpool_get_n_threads").skip());
    }
}
