package org.llamajava.springai;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.junit.jupiter.api.Test;
import org.llamajava.ArchitectureRules;

/** ArchUnit: this satellite uses the core's API only, never its internals or generated bindings. */
class SatelliteArchitectureTest {
    @Test
    void usesOnlyTheCoresApi() {
        JavaClasses classes = ArchitectureRules.mainClasses("org.llamajava.springai");
        assertTrue(classes.size() > 3, "this module's classes were imported: " + classes.size());
        ArchitectureRules.SATELLITES_USE_ONLY_THE_API.check(classes);
    }
}
