package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama.cpp's device flags on the model-loading commands: {@code --list-devices} prints the devices
 * and exits (before any other flag is checked, as llama.cpp's tools do), {@code -dev/--device}
 * pins them, and a device that is not here is a one-line error (status 1), or the CPU with
 * {@code --device-fallback}. On the CPU build (no GPU backend) every device but the CPU is absent.
 */
class CliDevicesTest {
    @TempDir
    static Path tmp;

    @Test
    void listDevicesPrintsTheOffloadDevicesAndExits() {
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "generate", "--list-devices");
        assertEquals(0, r.exitCode(), r::describe);
        assertTrue(r.stdout().startsWith("Available devices:"), r::describe);
        CliTestSupport.Result serve = CliTestSupport.runCli(tmp, "serve", "--list-devices");
        assertEquals(0, serve.exitCode(), serve::describe);
        assertTrue(serve.stdout().startsWith("Available devices:"), serve::describe);
    }

    @Test
    void aDeviceThatIsNotHereIsAClearErrorOrTheCpuWithFallback() {
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "Once upon a time",
                "-n", "8", "--temp", "0", "-dev", "Vulkan3");
        assertEquals(1, r.exitCode(), r::describe);
        assertTrue(r.stderr().contains("'Vulkan3'") && r.stderr().contains("devices here: CPU (CPU)"), r::describe);
        CliTestSupport.Result none = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "Once upon a time",
                "-n", "8", "--temp", "0", "--device", "none");
        assertEquals(0, none.exitCode(), none::describe);
        CliTestSupport.Result fallback = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p",
                "Once upon a time", "-n", "8", "--temp", "0", "-dev", "Vulkan3", "--device-fallback");
        assertEquals(0, fallback.exitCode(), fallback::describe);
        assertEquals(none.stdout(), fallback.stdout(), "the CPU's text");
        CliTestSupport.Result empty = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "x",
                "--device", "CPU,,CPU");
        assertEquals(2, empty.exitCode(), empty::describe);
    }
}
