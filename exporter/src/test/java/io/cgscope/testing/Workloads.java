package io.cgscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Real processes for kernel tests, started inside a cgroup: each is a shell that writes its own
 * PID to the cgroup's {@code cgroup.procs} and then {@code exec}s the workload, so the workload's
 * PID is the {@link Process}'s and it runs in the cgroup from its first instruction.
 */
public final class Workloads {
    private Workloads() {
    }

    /** A shell busy loop (builtins only: no system calls, no switches of its own) for {@code d}, then exit. */
    public static Process busy(Path cgroup, Duration d) {
        return start(cgroup, null, "exec timeout " + seconds(d) + " sh -c 'while :; do :; done'");
    }

    /** A busy loop that runs until killed, pinned to {@code cpu} when it is not negative. */
    public static Process spin(Path cgroup, int cpu) {
        return start(cgroup, cpu < 0 ? null : cpu, "exec sh -c 'while :; do :; done'");
    }

    /** Runs a shell command inside the cgroup and waits for it to exit. */
    public static void run(Path cgroup, String command) {
        Process p = start(cgroup, null, command);
        try {
            if (p.waitFor() != 0) {
                throw new AssertionError("workload failed: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new AssertionError("interrupted", e);
        }
    }

    private static Process start(Path cgroup, Integer cpu, String command) {
        List<String> argv = new ArrayList<>();
        if (cpu != null) {
            argv.addAll(List.of("taskset", "-c", Integer.toString(cpu)));
        }
        argv.addAll(List.of("sh", "-c", "echo $$ > \"$1\"/cgroup.procs && " + command, "sh", cgroup.toString()));
        try {
            return new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for a process to exit; fails after {@code timeout}. */
    public static int await(Process p, Duration timeout) {
        try {
            if (!p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("workload did not exit within " + timeout);
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** {@code usage_usec} from the cgroup's {@code cpu.stat}: the kernel's own CPU time of it, in seconds. */
    public static double cpuStatSeconds(Path cgroup) {
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cpu.stat"))) {
                if (line.startsWith("usage_usec ")) {
                    return Long.parseLong(line.substring(11).strip()) / 1e6;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no usage_usec in " + cgroup.resolve("cpu.stat"));
    }

    /** {@code /proc/<pid>/schedstat}: time on the CPU and time waiting on a run queue, in seconds. */
    public static double[] schedstat(long pid) {
        try {
            String[] f = Files.readString(Path.of("/proc/" + pid + "/schedstat")).strip().split("\\s+");
            return new double[] {Long.parseLong(f[0]) / 1e9, Long.parseLong(f[1]) / 1e9};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.3f", d.toMillis() / 1000.0);
    }
}
