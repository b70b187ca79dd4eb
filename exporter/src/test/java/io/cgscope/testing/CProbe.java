package io.cgscope.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Asks the C compiler what the system headers say: compiles a small program that prints
 * {@code name=value} lines (an offsetof, a sizeof, a constant) with {@code clang} (a build
 * dependency: it compiles the BPF object) and runs it. For tests that check a number cgscope
 * writes down by hand against the headers it was copied from.
 */
public final class CProbe {
    private CProbe() {
    }

    /**
     * @param includes headers, e.g. {@code "fcntl.h"}
     * @param values   name -> C expression of an integer type, printed as a long
     */
    public static Map<String, Long> evaluate(List<String> includes, Map<String, String> values)
            throws IOException, InterruptedException {
        StringBuilder c = new StringBuilder("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n");
        for (String h : includes) {
            c.append("#include <").append(h).append(">\n");
        }
        c.append("int main(void) {\n");
        values.forEach((name, expr) -> c.append("  printf(\"%s=%ld\\n\", \"").append(name).append("\", (long) (")
                .append(expr).append("));\n"));
        c.append("  return 0;\n}\n");
        Path dir = Files.createTempDirectory("cgscope-cprobe");
        try {
            Path src = dir.resolve("probe.c");
            Path bin = dir.resolve("probe");
            Files.writeString(src, c);
            run(List.of("clang", "-O0", "-o", bin.toString(), src.toString()), c.toString());
            Map<String, Long> out = new LinkedHashMap<>();
            for (String line : run(List.of(bin.toString()), c.toString()).lines().toList()) {
                int eq = line.indexOf('=');
                out.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
            }
            return out;
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static String run(List<String> command, String source) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output + "\nsource:\n" + source);
        }
        return output;
    }
}
