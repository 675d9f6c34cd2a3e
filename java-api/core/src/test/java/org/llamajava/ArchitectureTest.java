package org.llamajava;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import com.tngtech.archunit.library.freeze.FreezingArchRule;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The core's architecture (ArchUnit): it never depends on a satellite, and its packages gain no
 * new dependency cycle. The cycles that exist today (the root package and {@code internal},
 * {@code gguf}, {@code grammar} and {@code embed} use each other; see issue #29) are frozen in
 * {@code src/test/resources/archunit-store}: a new cycle fails this test, and a cycle that is broken
 * leaves the store when the test runs (commit the smaller store).
 */
class ArchitectureTest {
    static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter().importPath(Path.of(System.getProperty("basedir", "."), "target", "classes"));
    }

    @Test
    void theCoreNeverUsesASatellite() {
        assertTrue(core.size() > 100, "the core's classes were imported: " + core.size());
        ArchitectureRules.CORE_NEVER_USES_A_SATELLITE.check(core);
    }

    /** One slice per package of the core, the generated bindings and presets left out. */
    static final SliceAssignment PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            String p = c.getPackageName();
            return p.startsWith("org.llamajava.bindings") || p.startsWith("org.llamajava.presets")
                    ? SliceIdentifier.ignore() : SliceIdentifier.of(p);
        }

        @Override
        public String getDescription() {
            return "the core's packages";
        }
    };

    @Test
    void noNewCycleBetweenTheCoresPackages() {
        FreezingArchRule.freeze(slices().assignedFrom(PACKAGES).should().beFreeOfCycles()).check(core);
    }
}
