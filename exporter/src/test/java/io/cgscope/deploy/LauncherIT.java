package io.cgscope.deploy;

import io.cgscope.BuildInfo;
import io.cgscope.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher {@code target/cgscope} (README, "Running"), copied with the jar and jvm.options into a
 * directory of its own as an installation would be: it runs the jar on a Java >= 25, says in one line
 * what it needs when there is none, makes an AOT cache in a training run and passes it to java only
 * while the cache's id names this jar and this java.
 */
class LauncherIT {
    private static final Path TARGET = Path.of("target").toAbsolutePath();
    private static final String JAVA_HOME = System.getProperty("java.home");

    private record Result(int status, String stdout, String stderr) {
    }

    private static Path install(Path dir) throws IOException {
        for (String f : List.of("cgscope", "cgscope.jar", "jvm.options")) {
            Files.copy(TARGET.resolve(f), dir.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
        }
        return dir.resolve("cgscope");
    }

    private static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("CGSCOPE_JAVA_OPTS");
        pb.environment().put("JAVA_HOME", JAVA_HOME);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " did not finish in 120 s");
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** stderr without the JVM's own notice about a deprecated flag of jvm.options (README, "JVM and GC"). */
    private static List<String> ownLines(String stderr) {
        return stderr.lines().filter(l -> !l.contains("Option ShenandoahPacing was deprecated")).toList();
    }

    @Test
    void runsTheJarWithTheFlagsOfJvmOptions(@TempDir Path dir) throws Exception {
        Path launcher = install(dir);
        Result r = run(Map.of(), launcher.toString(), "--version");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(BuildInfo.load().toString(), r.stdout().strip());
        // The flags reach java: an argument file java cannot read fails the start.
        Files.delete(dir.resolve("jvm.options"));
        Result missing = run(Map.of(), launcher.toString(), "--version");
        assertEquals(1, missing.status());
        assertEquals(List.of("cgscope: " + dir + "/jvm.options is missing (it comes with cgscope.jar)"), ownLines(missing.stderr()));
    }

    @Test
    void passesTheAotCacheOnlyWhileItFitsTheJarAndTheJava(@TempDir Path dir) throws Exception {
        Path launcher = install(dir);
        Path aot = dir.resolve("cgscope.aot");
        Result training = run(Map.of("CGSCOPE_AOT_OUTPUT", aot.toString()), launcher.toString(), "--version");
        assertEquals(0, training.status(), training.stderr());
        assertTrue(Files.size(aot) > 1_000_000, "an AOT cache was written");
        String id = Files.readString(dir.resolve("cgscope.aot.id"));
        assertTrue(id.startsWith("jar ") && id.contains(" java " + Path.of(JAVA_HOME).toRealPath()), id);

        // The JVM's own log says which cache it opened (AOTMode=on alone would be content with the
        // JDK's default CDS archive).
        Path aotLog = dir.resolve("aot.log");
        Map<String, String> logAot = Map.of("CGSCOPE_JAVA_OPTS", "@" + dir.resolve("jvm.options") + " -Xlog:aot=info:file=" + aotLog);
        Result used = run(logAot, launcher.toString(), "--version");
        assertEquals(0, used.status(), used.stderr());
        assertEquals(List.of(), ownLines(used.stderr()));
        assertTrue(Files.readString(aotLog).contains("Opened AOT cache " + aot + "."), Files.readString(aotLog));

        Files.writeString(dir.resolve("cgscope.aot.id"), id.replace("jar ", "jar 1"));
        Result stale = run(Map.of(), launcher.toString(), "--version");
        assertEquals(0, stale.status(), stale.stderr());
        assertEquals(List.of("cgscope: not using " + aot + ": it was made for another jar or java"
                + " (exporter/scripts/train.sh makes a new one)"), ownLines(stale.stderr()));
        assertEquals(0, run(logAot, launcher.toString(), "--version").status());
        assertFalse(Files.readString(aotLog).contains("Opened AOT cache"), "not passed to java: " + Files.readString(aotLog));
    }

    /** No Java >= 25 anywhere: /usr/lib/jvm hidden by an empty file system in a mount namespace of its own. */
    @Test
    @KernelTest(KernelTest.Requirement.ROOT)
    void saysWhatItNeedsWithoutJava25(@TempDir Path dir) throws Exception {
        Path launcher = install(dir);
        Result r = run(Map.of("JAVA_HOME", "", "PATH", "/usr/bin:/bin"), "unshare", "--mount", "--propagation", "private",
                "sh", "-c", "mount -t tmpfs none /usr/lib/jvm && exec \"$0\" --version", launcher.toString());
        assertEquals(1, r.status(), r.stderr());
        List<String> lines = ownLines(r.stderr());
        assertEquals(1, lines.size(), r.stderr());
        assertTrue(lines.getFirst().startsWith("cgscope: needs Java 25 or newer (found: "), lines.getFirst());
        assertTrue(lines.getFirst().endsWith("install a JDK or JRE 25, e.g. Temurin 25, or set JAVA_HOME to one"), lines.getFirst());
        assertEquals("", r.stdout());
    }
}
