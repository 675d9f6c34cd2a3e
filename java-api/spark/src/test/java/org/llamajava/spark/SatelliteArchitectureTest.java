package org.llamajava.spark;

import org.junit.jupiter.api.Test;
import org.llamajava.ArchitectureRules;

/** ArchUnit: this satellite uses the core's API only, never its internals or generated bindings. */
class SatelliteArchitectureTest {
    @Test
    void usesOnlyTheCoresApi() {
        ArchitectureRules.checkSatellite("org.llamajava.spark");
    }
}
