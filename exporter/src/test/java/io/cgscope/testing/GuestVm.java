package io.cgscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of Debian 12's kernels booted under QEMU with a guest script, through
 * {@code exporter/scripts/kernel-matrix.sh} (README, "Kernel matrix"). The guest sees the host's
 * {@code /} read-only (writes go to an in-memory overlay), a pure cgroup2 hierarchy with every
 * controller enabled, bpffs and tracefs; the script runs as root and writes what it found into
 * {@code /results}, which is {@link #results()} here. A guest never outlives its timeout: the
 * guest powers itself off, and {@link #awaitPowerOff()} and {@link #close()} kill QEMU by its PID.
 *
 * <pre>{@code
 * try (GuestVm vm = GuestVm.kernel("6.12").script(script).env("CGSCOPE_JAR", jar)
 *         .timeout(Duration.ofMinutes(5)).boot()) {
 *     vm.awaitPowerOff();
 *     assertEquals(0, vm.exitStatus(), vm.consoleTail(40));
 *     String found = Files.readString(vm.results().resolve("found.txt"));
 * }
 * }</pre>
 *
 * The serial console (kernel and script output) stays in {@code exporter/target/guest-vm/} for
 * diagnosis; the results directory is deleted by {@link #close()}.
 */
public final class GuestVm implements AutoCloseable {
    /** Fetching a kernel package (about 180 MB for both) and unpacking it, once per version. */
    private static final Duration PREPARE_TIMEOUT = Duration.ofMinutes(5);
    /** Beyond the guest's own timeout: QEMU's start and the kernel's boot. */
    private static final Duration HOST_MARGIN = Duration.ofSeconds(60);

    private final String kernel;
    private final Map<String, String> prepared;
    private final Process qemu;
    private final Path results;
    private final Path console;
    private final Duration timeout;
    private final long startedNanos;
    private Long poweredOffNanos;

    private GuestVm(String kernel, Map<String, String> prepared, Process qemu, Path results, Path console,
                    Duration timeout) {
        this.kernel = kernel;
        this.prepared = prepared;
        this.qemu = qemu;
        this.results = results;
        this.console = console;
        this.timeout = timeout;
        this.startedNanos = System.nanoTime();
    }

    /** A guest with this kernel: a series ({@code 6.1}, {@code 6.12}: the newest package apt has) or a package name. */
    public static Builder kernel(String kernel) {
        return new Builder(kernel);
    }

    /** {@code exporter/scripts/kernel-matrix.sh}, found from the working directory up. */
    public static Path matrixScript() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("exporter/scripts/kernel-matrix.sh");
            if (Files.isExecutable(s)) {
                return s;
            }
        }
        throw new IllegalStateException("exporter/scripts/kernel-matrix.sh not found above " + Path.of("").toAbsolutePath());
    }

    /** What the guest needs on the host, or null when it is all there. */
    public static String missingRequirement() {
        for (String tool : List.of("qemu-system-x86_64", "busybox", "apt-get", "dpkg-deb")) {
            if (!onPath(tool)) {
                return "needs " + tool + " (exporter/scripts/test.sh installs qemu-system-x86 and busybox-static)";
            }
        }
        return null;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** The kernel asked for (a series or a package). */
    public String kernel() {
        return kernel;
    }

    /** The package booted, e.g. {@code linux-image-6.1.0-57-amd64}. */
    public String packageName() {
        return prepared.get("package");
    }

    /** Its Debian version, e.g. {@code 6.1.192-3}. */
    public String packageVersion() {
        return prepared.get("version");
    }

    /** {@code uname -r} in the guest. */
    public String release() {
        return prepared.get("release");
    }

    /** {@code tcg} or {@code kvm}. */
    public String accel() {
        return prepared.get("accel");
    }

    /** QEMU's PID. */
    public long pid() {
        return qemu.pid();
    }

    /** The host directory the guest sees as {@code /results}. */
    public Path results() {
        return results;
    }

    /** The serial console's file (kept after {@link #close()}). */
    public Path console() {
        return console;
    }

    /** The last {@code lines} lines of the console, for failure messages. */
    public String consoleTail(int lines) {
        try {
            List<String> all = Files.readAllLines(console, StandardCharsets.UTF_8);
            return "console " + console + " (last " + lines + " lines):\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no console: " + e + ")";
        }
    }

    /**
     * Waits until the guest powers off (QEMU exits), at most the timeout plus a margin for the boot;
     * past that QEMU is killed and this fails with the console's tail.
     */
    public void awaitPowerOff() throws InterruptedException {
        Duration bound = timeout.plus(HOST_MARGIN);
        if (!qemu.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
            throw new AssertionError("guest " + kernel + " still running after " + bound.toSeconds()
                    + " s: QEMU " + qemu.pid() + " killed; " + consoleTail(60));
        }
        poweredOffNanos = System.nanoTime();
    }

    /** From QEMU's start to its exit (after {@link #awaitPowerOff()}). */
    public Duration wallTime() {
        if (poweredOffNanos == null) {
            throw new IllegalStateException("the guest has not powered off yet");
        }
        return Duration.ofNanos(poweredOffNanos - startedNanos);
    }

    /** The guest script's exit status ({@code /results/guest-exit-status}); fails when it never ended. */
    public int exitStatus() {
        Path f = results.resolve("guest-exit-status");
        try {
            return Integer.parseInt(Files.readString(f).strip());
        } catch (IOException | NumberFormatException e) {
            throw new AssertionError("the guest script did not finish (no " + f + "): " + consoleTail(60), e);
        }
    }

    private void kill() throws InterruptedException {
        if (qemu.isAlive()) {
            qemu.destroyForcibly(); // SIGKILL to QEMU's PID: the script exec'd it
            if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("QEMU " + qemu.pid() + " survived SIGKILL for 30 s");
            }
        }
    }

    /** Kills QEMU if it still runs, by its PID, and deletes the results directory. */
    @Override
    public void close() {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            qemu.destroyForcibly();
        }
        try {
            Cleanup.deleteTree(results);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static final class Builder {
        private final String kernel;
        private Path script;
        private String scriptText;
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> shares = new ArrayList<>();
        private String memory = "2G";
        private int cpus = 2;
        private Duration timeout = Duration.ofMinutes(5);
        private String accel = "auto";
        private String append = "";

        private Builder(String kernel) {
            this.kernel = kernel;
        }

        /** An executable host file (it runs by its {@code #!} line); it must not be in a directory the guest hides ({@code /run}, {@code /dev}). */
        public Builder script(Path script) {
            this.script = script.toAbsolutePath();
            return this;
        }

        /** A script's text, written to a file for the guest ({@code #!/bin/sh} unless it starts with {@code #!}). */
        public Builder scriptText(String text) {
            this.scriptText = text.startsWith("#!") ? text : "#!/bin/sh\n" + text;
            return this;
        }

        /** One variable of the script's environment; neither may contain white space. */
        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** A host directory at {@code guestPath}, read-write or read-only. */
        public Builder share(Path hostDir, String guestPath, boolean writable) {
            shares.add(hostDir.toAbsolutePath() + ":" + guestPath + (writable ? ":rw" : ":ro"));
            return this;
        }

        /** Guest memory in QEMU's syntax (default {@code 2G}). */
        public Builder memory(String memory) {
            this.memory = memory;
            return this;
        }

        public Builder cpus(int cpus) {
            this.cpus = cpus;
            return this;
        }

        /** The guest's budget (default 5 minutes): it powers itself off then, and the host kills it a minute later. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** {@code auto} (default: KVM only where a probe boot shows it works), {@code tcg} or {@code kvm}. */
        public Builder accel(String accel) {
            this.accel = accel;
            return this;
        }

        /** More kernel command line. */
        public Builder append(String args) {
            this.append = args;
            return this;
        }

        /** Fetches the kernel if needed, builds the initramfs and starts QEMU. */
        public GuestVm boot() throws IOException, InterruptedException {
            if (script == null && scriptText == null) {
                throw new IllegalStateException("no guest script");
            }
            Path matrix = matrixScript();
            Map<String, String> prepared = prepare(matrix);
            Path results = Files.createTempDirectory("cgscope-guest-results");
            Path scriptFile = script;
            if (scriptFile == null) {
                scriptFile = results.resolve(".guest-script");
                Files.writeString(scriptFile, scriptText);
                Files.setPosixFilePermissions(scriptFile, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Path consoleDir = Path.of("target", "guest-vm").toAbsolutePath();
            Files.createDirectories(consoleDir);
            Path console = consoleDir.resolve(kernel + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")) + ".console.log");
            List<String> cmd = new ArrayList<>(List.of(matrix.toString(), "boot", kernel,
                    "--script", scriptFile.toString(), "--results", results.toString(),
                    "--timeout", Long.toString(timeout.toSeconds()), "--memory", memory,
                    "--cpus", Integer.toString(cpus), "--accel", prepared.get("accel")));
            env.forEach((k, v) -> cmd.addAll(List.of("--env", k + "=" + v)));
            shares.forEach(s -> cmd.addAll(List.of("--share", s)));
            if (!append.isEmpty()) {
                cmd.addAll(List.of("--append", append));
            }
            Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            return new GuestVm(kernel, prepared, qemu, results, console, timeout);
        }

        private Map<String, String> prepare(Path matrix) throws IOException, InterruptedException {
            Path log = Files.createTempFile("cgscope-guest-prepare", ".log");
            Path stdout = Files.createTempFile("cgscope-guest-prepare", ".out");
            try {
                Process p = new ProcessBuilder(matrix.toString(), "prepare", kernel, "--accel", accel)
                        .redirectError(log.toFile()).redirectOutput(stdout.toFile()).start();
                p.getOutputStream().close();
                if (!p.waitFor(PREPARE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                    throw new AssertionError("kernel-matrix.sh prepare " + kernel + " took over " + PREPARE_TIMEOUT
                            + ": " + Files.readString(log));
                }
                String out = Files.readString(stdout);
                if (p.exitValue() != 0) {
                    throw new AssertionError("kernel-matrix.sh prepare " + kernel + " failed: " + Files.readString(log) + out);
                }
                Map<String, String> kv = new HashMap<>();
                for (String line : out.split("\n")) {
                    int eq = line.indexOf('=');
                    if (eq > 0) {
                        kv.put(line.substring(0, eq), line.substring(eq + 1));
                    }
                }
                for (String key : List.of("package", "version", "release", "accel")) {
                    if (!kv.containsKey(key)) {
                        throw new AssertionError("kernel-matrix.sh prepare " + kernel + " printed no " + key + ": " + out);
                    }
                }
                return kv;
            } finally {
                Files.deleteIfExists(log);
                Files.deleteIfExists(stdout);
            }
        }
    }
}
