package io.cgscope;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What each package may import, as its package-info.java and the README's "Code layout" say,
 * checked on the sources. A package not listed here is not checked (add its rule when you add it).
 */
class PackageRulesTest {
    private static final Path SOURCES = Path.of("src/main/java/io/cgscope");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?io\\.cgscope\\.(\\w+)\\.");
    private static final Pattern ROOT_IMPORT = Pattern.compile("(?m)^import (?:static )?io\\.cgscope\\.([A-Z]\\w*)");
    /** Package -> the cgscope packages it may import ("" is the root package). */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("linux", Set.of()),
            Map.entry("config", Set.of()),
            Map.entry("text", Set.of()),
            Map.entry("index", Set.of()),
            Map.entry("log", Set.of("text")),
            Map.entry("bpf", Set.of("linux")),
            Map.entry("cgroupfs", Set.of("linux", "index")),
            Map.entry("fanotify", Set.of("linux", "cgroupfs", "index")),
            Map.entry("lifecycle", Set.of("bpf", "cgroupfs", "index", "linux")),
            Map.entry("workload", Set.of("index")),
            Map.entry("top", Set.of("index", "bpf")),
            Map.entry("programs", Set.of("bpf", "config", "index", "linux", "metrics", "workload")),
            Map.entry("accounting", Set.of("index", "linux")),
            Map.entry("metrics", Set.of("index", "bpf", "config", "workload", "lifecycle", "accounting", "")),
            Map.entry("http", Set.of("index", "config", "text", "workload", "top", "bpf", "metrics", "")));

    @Test
    void eachPackageImportsOnlyWhatItMay() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Set<String>> rule : ALLOWED.entrySet()) {
            for (Path file : javaFiles(SOURCES.resolve(rule.getKey()))) {
                String text = Files.readString(file);
                Matcher m = IMPORT.matcher(text);
                while (m.find()) {
                    if (!m.group(1).equals(rule.getKey()) && !rule.getValue().contains(m.group(1))) {
                        wrong.add(file.getFileName() + " imports io.cgscope." + m.group(1));
                    }
                }
                Matcher root = ROOT_IMPORT.matcher(text);
                while (root.find()) {
                    if (!rule.getValue().contains("")) {
                        wrong.add(file.getFileName() + " imports io.cgscope." + root.group(1));
                    }
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void onlyTheNativePackagesUseForeignMemory() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (String pkg : List.of("index", "http", "metrics", "config", "log", "text", "workload", "top", "programs",
                "accounting")) {
            for (Path file : javaFiles(SOURCES.resolve(pkg))) {
                if (Files.readString(file).contains("import java.lang.foreign")) {
                    wrong.add(pkg + "/" + file.getFileName());
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void everyPackageSaysItsJob() throws IOException {
        try (Stream<Path> dirs = Files.walk(SOURCES)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                if (!javaFiles(dir).isEmpty()) {
                    assertTrue(Files.exists(dir.resolve("package-info.java")), dir + " has no package-info.java");
                }
            }
        }
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).toList();
        }
    }
}
