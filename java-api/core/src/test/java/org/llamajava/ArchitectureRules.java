package org.llamajava;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Architecture rules shared by the core's and the satellites' tests (core's test jar): the core
 * never depends on a satellite, and a satellite (server, adapters, CLI and samples) uses the core's
 * API only, never its internals or the bindings JavaCPP generates.
 */
public final class ArchitectureRules {
    private ArchitectureRules() {}

    /** The satellites' packages. */
    public static final String[] SATELLITES = {"org.llamajava.server..", "org.llamajava.langchain4j..",
        "org.llamajava.springai..", "org.llamajava.spark..", "org.llamajava.cli..", "org.llamajava.samples..",
        "org.llamajava.micrometer..", "org.llamajava.opentelemetry.."};

    /** The core's implementation: internals and the generated bindings (and their JavaCPP presets). */
    public static final String[] CORE_IMPLEMENTATION = {"org.llamajava.internal..", "org.llamajava.bindings..",
        "org.llamajava.presets.."};

    /** A satellite uses the core's API only. */
    public static final ArchRule SATELLITES_USE_ONLY_THE_API = noClasses().that().resideInAnyPackage(SATELLITES)
            .should().dependOnClassesThat().resideInAnyPackage(CORE_IMPLEMENTATION)
            .because("internal and bindings are the core's implementation, not API: a satellite that needs one"
                    + " needs a public API in the core");

    /** The core never depends on a satellite. */
    public static final ArchRule CORE_NEVER_USES_A_SATELLITE = noClasses().that().resideInAPackage("org.llamajava..")
            .and().resideOutsideOfPackages(SATELLITES).should().dependOnClassesThat().resideInAnyPackage(SATELLITES)
            .because("a framework or server dependency lives in its satellite");

    /**
     * Checks {@link #SATELLITES_USE_ONLY_THE_API} on a satellite's main classes (its packages on the
     * classpath), after making sure they were found.
     */
    public static void checkSatellite(String... packages) {
        JavaClasses classes = mainClasses(packages);
        if (classes.size() < 2) { // a satellite has a class and its package-info at least
            throw new AssertionError("the satellite's classes were not found on the classpath: " + classes.size());
        }
        SATELLITES_USE_ONLY_THE_API.check(classes);
    }

    /** The main (not test) classes of the given packages on the classpath. */
    public static JavaClasses mainClasses(String... packages) {
        return new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(packages);
    }
}
