package io.cgscope.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * One shell process that is moved through short-lived cgroups so that each gets BPF activity:
 * in each cgroup it is woken twice through a pipe and blocks twice, so it is switched in
 * (run-queue latency of that cgroup) and out (context switches and CPU time of that cgroup) while
 * it is there. Between visits it waits in {@code home}. Cheap: no fork per cgroup.
 */
public final class CgroupVisitor implements AutoCloseable {
    private final Path home;
    private final Process shell;
    private final OutputStream in;
    private final BufferedReader out;

    public CgroupVisitor(Path home) {
        this.home = home;
        try {
            // The shell moves itself home first, then echoes each line back: one wake-up and one block per line.
            shell = new ProcessBuilder("sh", "-c", "echo $$ > \"$1\"/cgroup.procs && while read x; do echo \"$x\"; done",
                    "sh", home.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        in = shell.getOutputStream();
        out = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.US_ASCII));
        ping(); // at home now
    }

    /** Moves the shell into {@code cgroup}, wakes it there twice, and moves it home again. */
    public void visit(Path cgroup) {
        TestCgroups.move(shell.pid(), cgroup);
        ping();
        ping();
        TestCgroups.move(shell.pid(), home);
    }

    /** The shell's PID. */
    public long pid() {
        return shell.pid();
    }

    private void ping() {
        try {
            in.write('p');
            in.write('\n');
            in.flush();
            String line = out.readLine();
            if (!"p".equals(line)) {
                throw new IllegalStateException("visitor shell answered " + line + " (alive: " + shell.isAlive() + ")");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Removes an empty cgroup the visitor just left; retries while the kernel still counts it as
     * populated (a moved task leaves its cgroup's population a moment later in rare cases).
     */
    public static void remove(Path cgroup) {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.delete(cgroup);
                return;
            } catch (NoSuchFileException e) {
                return;
            } catch (IOException e) {
                if (attempt >= 1000) {
                    throw new UncheckedIOException(e);
                }
                Thread.onSpinWait(); // polling "rmdir succeeds": nothing to block on
            }
        }
    }

    @Override
    public void close() {
        shell.destroy(); // SIGTERM to its PID
        try {
            if (!shell.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                shell.destroyForcibly();
                shell.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shell.destroyForcibly();
        }
    }
}
