package org.llamajava.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The models a router ({@code serve} without {@code -m}) serves, named as llama-server's router names
 * them: a file of the models folder under {@code ORG/REPO/} (where {@code pull} puts Hugging Face
 * files) is {@code ORG/REPO:TAG}, the tag taken from the file's name as llama.cpp's cache listing takes
 * it ({@code stories260K-F32.gguf}: {@code F32}); a GGUF directly in the folder is its file name without
 * {@code .gguf}; a sub-folder holding GGUF files (a split model, a model with its mmproj) is the
 * sub-folder's name. The sections of a {@code --models-preset} INI file add models by name
 * ({@code model = FILE} or {@code hf-repo = ORG/REPO[:TAG]}, {@code hf-file}) or give an existing one
 * its own flags; {@code [*]} gives every model flags. Read again on {@code GET /models?reload=1}.
 */
final class RouterCatalog {
    /** Where a model comes from, as llama-server's {@code source} field says it. */
    enum Source { CACHE, MODELS_DIR, PRESET }

    /**
     * One model the router may load.
     *
     * @param name   its name in requests and in {@code /models}
     * @param source where it was found
     * @param model  what the child's {@code -m} gets: a file, or a reference {@code serve} pulls
     * @param args   further flags for its child ({@code --key value}), from the preset
     * @param stopTimeout seconds a stopping child gets before it is killed
     * @param hidden hidden from {@code /models} ({@code dedup-cache-models}), still served by name
     * @param loadOnStartup loaded when the router starts ({@code load-on-startup})
     */
    record Entry(String name, Source source, String model, List<String> args, int stopTimeout, boolean hidden,
                 boolean loadOnStartup) {}

    /** Keys of a preset section that the router reads itself: they are not flags for the child. */
    private static final List<String> ROUTER_KEYS = List.of("model", "m", "hf-repo", "hf", "hfr", "hf-file", "hff",
            "load-on-startup", "stop-timeout", "dedup-cache-models", "spec-draft-hf", "hfd", "hfrd", "hf-repo-draft",
            "host", "port", "api-key", "alias", "a", "tags", "models-dir", "models-preset", "models-max",
            "models-autoload", "no-models-autoload", "cors-origins", "cors-origin", "version");

    private static final Pattern SPLIT = Pattern.compile("^(.+)-([0-9]{5})-of-([0-9]{5})$", Pattern.CASE_INSENSITIVE);
    private static final Pattern TAG = Pattern.compile("[-.]([A-Z0-9_]+)$", Pattern.CASE_INSENSITIVE);
    private static final List<String> COMPANIONS = List.of("mmproj", "mtp-", "eagle3-", "dflash-", "dspark-");

    private RouterCatalog() {}

    /**
     * Reads the models folder and the preset file.
     *
     * @param dir    the models folder (may be missing: no models from it)
     * @param preset the INI file, or null
     * @return the models by name
     */
    static Map<String, Entry> read(Path dir, Path preset) {
        Map<String, Entry> out = new TreeMap<>();
        Map<String, Path> cachePaths = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : scan(dir).entrySet()) {
            String name = e.getKey();
            boolean cache = name.contains(":");
            if (cache) {
                cachePaths.put(name, e.getValue());
            }
            out.put(name, new Entry(name, cache ? Source.CACHE : Source.MODELS_DIR, e.getValue().toString(), List.of(),
                    10, false, false));
        }
        if (preset == null) {
            return out;
        }
        Map<String, Map<String, String>> sections = parseIni(preset);
        Map<String, String> global = sections.getOrDefault("*", Map.of());
        java.util.Set<Path> dedup = new java.util.HashSet<>();
        for (Map.Entry<String, Map<String, String>> s : sections.entrySet()) {
            if (s.getKey().equals("*") || s.getKey().isEmpty()) {
                continue;
            }
            Map<String, String> keys = new LinkedHashMap<>(global);
            keys.putAll(s.getValue());
            String name = s.getKey();
            Entry base = out.get(name);
            String model = first(keys, "model", "m");
            String repo = first(keys, "hf-repo", "hf", "hfr");
            if (model == null && repo != null) {
                Path local = resolveRepo(dir, repo, first(keys, "hf-file", "hff"));
                model = local != null ? local.toString() : repo;
            }
            if (model == null && base != null) {
                model = base.model();
            }
            if (model == null) {
                throw new UsageException("--models-preset " + preset + ": section [" + name + "] names no model: give it"
                        + " 'model = FILE' or 'hf-repo = ORG/REPO[:QUANT]', or name a model of the models folder");
            }
            if (truthy(keys.get("dedup-cache-models"))) {
                for (String k : new String[] {"hf-repo", "hf", "hfr"}) {
                    if (keys.containsKey(k)) {
                        Path p = resolveRepo(dir, keys.get(k), first(keys, "hf-file", "hff"));
                        if (p != null) {
                            dedup.add(p);
                        }
                    }
                }
                for (String k : new String[] {"spec-draft-hf", "hfd", "hfrd", "hf-repo-draft"}) {
                    if (keys.containsKey(k)) {
                        Path p = resolveRepo(dir, keys.get(k), null);
                        if (p != null) {
                            dedup.add(p);
                        }
                    }
                }
            }
            List<String> args = new ArrayList<>();
            for (Map.Entry<String, String> k : keys.entrySet()) {
                if (ROUTER_KEYS.contains(k.getKey().toLowerCase(Locale.ROOT))) {
                    continue;
                }
                String flag = flagName(k.getKey());
                String v = k.getValue();
                if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("on") || (v.isEmpty())) {
                    args.add(flag);
                } else if (!v.equalsIgnoreCase("false") && !v.equalsIgnoreCase("off")) {
                    args.add(flag);
                    args.add(v);
                }
            }
            int stop = 10;
            if (keys.containsKey("stop-timeout")) {
                try {
                    stop = Integer.parseInt(keys.get("stop-timeout").strip());
                } catch (NumberFormatException e) {
                    throw new UsageException("--models-preset " + preset + ": section [" + name + "]: stop-timeout takes"
                            + " a number of seconds, not '" + keys.get("stop-timeout") + "'");
                }
            }
            out.put(name, new Entry(name, Source.PRESET, model, List.copyOf(args), stop, false,
                    truthy(keys.get("load-on-startup"))));
        }
        for (Map.Entry<String, Path> c : cachePaths.entrySet()) {
            Entry e = out.get(c.getKey());
            if (e != null && e.source() == Source.CACHE && dedup.contains(c.getValue())) {
                out.put(e.name(), new Entry(e.name(), e.source(), e.model(), e.args(), e.stopTimeout(), true,
                        e.loadOnStartup()));
            }
        }
        return out;
    }

    /** The models of the folder, by name (see the class comment). */
    static Map<String, Path> scan(Path dir) {
        Map<String, Path> out = new TreeMap<>();
        if (dir == null || !Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files;
        try (var s = Files.walk(dir, 8)) {
            files = s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".gguf"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the models folder " + dir + ": " + e.getMessage(), e);
        }
        for (Path p : files) {
            Path rel = dir.relativize(p);
            String file = p.getFileName().toString();
            String stem = file.substring(0, file.length() - ".gguf".length());
            if (COMPANIONS.stream().anyMatch(stem::contains)) {
                continue;
            }
            Matcher split = SPLIT.matcher(stem);
            if (split.matches()) {
                if (Integer.parseInt(split.group(2)) != 1) {
                    continue;
                }
                stem = split.group(1);
            }
            if (rel.getNameCount() >= 3) {
                String tag = tag(stem);
                if (!tag.isEmpty()) {
                    out.putIfAbsent(rel.getName(0) + "/" + rel.getName(1) + ":" + tag, p);
                }
            } else if (rel.getNameCount() == 2) {
                out.putIfAbsent(rel.getName(0).toString(), p);
            } else {
                out.putIfAbsent(stem, p);
            }
        }
        return out;
    }

    /** llama.cpp's tag of a file name (without .gguf and split suffix): after the last - or ., upper-cased. */
    static String tag(String stem) {
        Matcher m = TAG.matcher(stem);
        return m.find() ? m.group(1).toUpperCase(Locale.ROOT) : "";
    }

    /** {@code ORG/REPO[:TAG]} (and an optional file) in the folder, or null when it has not been pulled. */
    static Path resolveRepo(Path dir, String repoWithTag, String file) {
        String repo = repoWithTag.strip();
        String tag = null;
        int colon = repo.indexOf(':');
        if (colon > 0) {
            tag = repo.substring(colon + 1).toUpperCase(Locale.ROOT);
            repo = repo.substring(0, colon);
        }
        if (dir == null) {
            return null;
        }
        Path repoDir = dir.resolve(repo).normalize();
        if (!repoDir.startsWith(dir.normalize()) || !Files.isDirectory(repoDir)) {
            return null;
        }
        if (file != null && !file.isBlank()) {
            Path f = repoDir.resolve(file).normalize();
            return f.startsWith(repoDir) && Files.isRegularFile(f) ? f : null;
        }
        Map<String, Path> inRepo = new TreeMap<>();
        String prefix = repo + ":";
        scan(dir).forEach((n, p) -> {
            if (n.startsWith(prefix)) {
                inRepo.put(n.substring(prefix.length()), p);
            }
        });
        if (tag != null) {
            return inRepo.get(tag);
        }
        for (String preferred : new String[] {"Q4_K_M", "Q8_0"}) {
            if (inRepo.containsKey(preferred)) {
                return inRepo.get(preferred);
            }
        }
        return inRepo.isEmpty() ? null : inRepo.values().iterator().next();
    }

    /** The sections of an INI file: keys lower-cased, values unquoted; keys before any section go to "". */
    static Map<String, Map<String, String>> parseIni(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read --models-preset " + file + ": " + e.getMessage());
        }
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        String section = "";
        int n = 0;
        for (String raw : lines) {
            n++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("[")) {
                if (!line.endsWith("]")) {
                    throw new UsageException("--models-preset " + file + " line " + n + ": a section is [NAME]: " + raw);
                }
                section = line.substring(1, line.length() - 1).strip();
                out.computeIfAbsent(section, k -> new LinkedHashMap<>());
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--models-preset " + file + " line " + n + ": expected 'key = value': " + raw);
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                    || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            out.computeIfAbsent(section, k -> new LinkedHashMap<>()).put(key.toLowerCase(Locale.ROOT), value);
        }
        return out;
    }

    /** A preset key as a flag: {@code c} is {@code -c}, {@code ctx-size} is {@code --ctx-size}, an env name its flag's. */
    private static String flagName(String key) {
        if (key.toUpperCase(Locale.ROOT).startsWith("LLAMA_ARG_") || key.equalsIgnoreCase("HF_TOKEN")) {
            for (ServerFlags.Flag f : ServerFlags.all()) {
                if (key.equalsIgnoreCase(f.env())) {
                    return f.names().get(f.names().size() - 1);
                }
            }
        }
        String dashed = key.length() <= 3 && !key.contains("-") ? "-" + key : "--" + key;
        if (ServerFlags.byName().containsKey(dashed)) {
            return dashed;
        }
        return ServerFlags.byName().containsKey("-" + key) ? "-" + key : "--" + key;
    }

    private static String first(Map<String, String> keys, String... names) {
        for (String n : names) {
            String v = keys.get(n);
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }

    private static boolean truthy(String v) {
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("on")
                || v.equalsIgnoreCase("yes"));
    }
}
