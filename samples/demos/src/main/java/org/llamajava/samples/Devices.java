package org.llamajava.samples;

import org.llamajava.Device;
import org.llamajava.Llama;

/** Prints the devices llama.cpp can use here: {@code java -cp llama-java.jar org.llamajava.samples.Devices}. */
public final class Devices {
    private Devices() {}

    public static void main(String[] args) {
        System.out.println("| # | name | description | type | free MiB | total MiB |");
        System.out.println("| --- | --- | --- | --- | ---: | ---: |");
        for (Device d : Llama.devices()) {
            System.out.printf("| %d | %s | %s | %s | %d | %d |%n", d.index(), d.name(), d.description(), d.type(),
                    d.memoryFree() >> 20, d.memoryTotal() >> 20);
        }
        System.out.println("GPU build: " + Llama.isGpuBuild() + ", GPU available: " + Llama.hasGpu());
    }
}
