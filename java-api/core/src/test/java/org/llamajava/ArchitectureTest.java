package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The core's architecture (ArchUnit): it never depends on a satellite; its packages form layers
 * without cycles ({@code internal} at the bottom; {@code gguf} and {@code grammar} over it; the
 * root package's API over them; {@code batch}, {@code chat}, {@code embed}, {@code multimodal} and
 * {@code structured} over the API); no class reaches the API through a registry or by name.
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

    /** The core's package, or null for the generated bindings and presets (and classes outside the core). */
    private static String corePackage(JavaClass c) {
        String p = c.getPackageName();
        return !p.startsWith("org.llamajava") || p.startsWith("org.llamajava.bindings")
                || p.startsWith("org.llamajava.presets") ? null : p;
    }

    @Test
    void noPackageJoinsACycle() {
        Map<String, Set<String>> uses = new TreeMap<>();
        for (JavaClass c : core) {
            String from = corePackage(c);
            if (from == null) {
                continue;
            }
            uses.computeIfAbsent(from, k -> new TreeSet<>());
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = corePackage(d.getTargetClass().getBaseComponentType());
                if (to != null && !to.equals(from)) {
                    uses.get(from).add(to);
                }
            }
        }
        assertTrue(uses.size() >= 8, "the core's packages: " + uses.keySet());
        assertEquals(Set.of(), cycles(uses), "package cycles (strongly connected packages); dependencies: " + uses);
    }

    /** ArchUnit's own cycle check over the same packages (with the classes on each cycle when it fails). */
    @Test
    void archUnitFindsNoCycleEither() {
        // one slice per package of the core (the root package included), the bindings and presets left out
        slices().assignedFrom(new com.tngtech.archunit.library.dependencies.SliceAssignment() {
            @Override
            public com.tngtech.archunit.library.dependencies.SliceIdentifier getIdentifierOf(JavaClass c) {
                String p = corePackage(c);
                return p == null ? com.tngtech.archunit.library.dependencies.SliceIdentifier.ignore()
                        : com.tngtech.archunit.library.dependencies.SliceIdentifier.of(p);
            }

            @Override
            public String getDescription() {
                return "the core's packages";
            }
        }).should().beFreeOfCycles().check(core);
    }

    /** The lower layers never use the API above them: what they throw and call is their own. */
    @Test
    void internalGgufAndGrammarNeverUseTheApi() {
        noClasses().that().resideInAnyPackage("org.llamajava.internal..", "org.llamajava.gguf..", "org.llamajava.grammar..")
                .should().dependOnClassesThat().resideInAPackage("org.llamajava")
                .check(core);
        noClasses().that().resideInAPackage("org.llamajava.internal..")
                .should().dependOnClassesThat().resideInAnyPackage("org.llamajava.gguf..", "org.llamajava.grammar..")
                .check(core);
    }

    /** The API does not use the packages built on it. */
    @Test
    void theApiNeverUsesThePackagesOverIt() {
        noClasses().that().resideInAPackage("org.llamajava")
                .should().dependOnClassesThat().resideInAnyPackage("org.llamajava.batch..", "org.llamajava.chat..",
                        "org.llamajava.embed..", "org.llamajava.multimodal..", "org.llamajava.quantize..",
                        "org.llamajava.structured..")
                .check(core);
    }

    /**
     * No back-channel: no static registry of accessors ({@code internal.Handles} is gone) and no
     * {@code Class.forName} into llama-java's own classes (the one left loads JavaCPP's optional
     * CUDA runtime classes). Read from the sources, as a reviewer's grep would.
     */
    @Test
    void noRegistryAndNoClassForNameIntoTheApi() throws java.io.IOException {
        Path src = Path.of(System.getProperty("basedir", "."), "src", "main", "java", "org", "llamajava");
        List<String> found = new ArrayList<>();
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(src)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String text = java.nio.file.Files.readString(f);
                if (f.getFileName().toString().equals("Handles.java") || text.contains("Handles.")) {
                    found.add(f + ": Handles");
                }
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("Class\\.forName\\(\\s*(\"?[\\w.]*)").matcher(text);
                while (m.find()) {
                    if (!m.group(1).isEmpty() && !m.group(1).equals("cls")) {
                        found.add(f + ": Class.forName(" + m.group(1));
                    }
                }
                if (text.contains("Class.forName(\"org.llamajava")) {
                    found.add(f + ": Class.forName into llama-java");
                }
            }
        }
        assertTrue(found.isEmpty(), "back-channels: " + found);
    }

    /** The strongly connected sets of more than one package (Tarjan's algorithm), each sorted. */
    static Set<List<String>> cycles(Map<String, Set<String>> uses) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        Set<List<String>> out = new HashSet<>();
        int[] next = {0};
        for (String v : uses.keySet()) {
            if (!index.containsKey(v)) {
                connect(v, uses, index, low, stack, onStack, out, next);
            }
        }
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> uses, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                Set<List<String>> out, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : uses.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, uses, index, low, stack, onStack, out, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> scc = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                scc.add(w);
            } while (!w.equals(v));
            if (scc.size() > 1) {
                Collections.sort(scc);
                out.add(List.copyOf(scc));
            }
        }
    }

    @Test
    void theCycleFinderFindsCycles() {
        Map<String, Set<String>> g = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"),
                "e", Set.of("f"), "f", Set.of("e"));
        assertEquals(Set.of(List.of("a", "b", "c"), List.of("e", "f")), cycles(new TreeMap<>(g)));
        assertEquals(Set.of(), cycles(new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of()))));
    }
}
