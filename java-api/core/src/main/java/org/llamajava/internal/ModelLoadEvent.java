package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** JFR event {@code org.llamajava.ModelLoad}: a model loaded (its duration is the load's). Internal: not API. */
@Name("org.llamajava.ModelLoad")
@Label("Model Load")
@Category("llama-java")
@Description("A GGUF model loaded by Model.load")
public final class ModelLoadEvent extends jdk.jfr.Event {
    /** The model file (the first part of a split model). */
    @Label("File")
    public String file;

    /** Bytes of all its files. */
    @Label("Size")
    @DataAmount
    public long size;

    /** Files it was loaded from (1 unless split). */
    @Label("Parts")
    public int parts;

    /** Layers asked to run on GPUs ({@code ModelParams.gpuLayers}; -1: all). */
    @Label("GPU Layers")
    public int gpuLayers;

    /** The devices: CPU, the local devices given layers by name (Vulkan0, CUDA0), and RPC servers by endpoint. */
    @Label("Devices")
    public String devices;

    /** Whether only the vocabulary was loaded. */
    @Label("Vocabulary Only")
    public boolean vocabOnly;

    /** Whether the load succeeded. */
    @Label("Succeeded")
    public boolean succeeded;
}
