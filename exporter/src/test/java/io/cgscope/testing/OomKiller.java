package io.cgscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Makes the kernel's OOM killer kill a process of a given cgroup2 cgroup: a {@code dd} whose 64 MiB
 * buffer cannot fit under a 32 MiB memory limit. Where the limit goes depends on the host:
 * <ul>
 *   <li>with a v1 {@code memory} hierarchy (the test machine), on a cgroup made for it inside this
 *       process's own memory cgroup ({@link ControllerCgroups}); the {@code dd} moves into both it
 *       and the cgroup2 cgroup, and never out of this process's memory cgroup;</li>
 *   <li>on a pure cgroup2 host, on the cgroup2 cgroup itself (the memory controller enabled in its
 *       parent, a test cgroup).</li>
 * </ul>
 * Limits are only ever written on cgroups the tests made. {@link #close()} removes what it made.
 */
public final class OomKiller implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(30);
    public static final long LIMIT = 32L << 20;

    private final ControllerCgroups memory; // null on a pure cgroup2 host
    private String lastMemcgPath;

    private OomKiller(ControllerCgroups memory) {
        this.memory = memory;
    }

    /** An OOM killer for this host, or empty when it has no memory controller anywhere. */
    public static Optional<OomKiller> create() {
        Optional<ControllerCgroups> memory = ControllerCgroups.of("memory");
        if (memory.isEmpty()) {
            return Optional.empty();
        }
        if (memory.get().isV1()) {
            return Optional.of(new OomKiller(memory.get()));
        }
        memory.get().close(); // cgroup2: the limit goes on the victim's own cgroup
        return Optional.of(new OomKiller(null));
    }

    /** Whether the limit is set in a v1 memory hierarchy (and so the memcg is not the victim's cgroup2 cgroup). */
    public boolean v1() {
        return memory != null;
    }

    /**
     * Makes the OOM killer kill a {@code dd} in {@code victim} (a cgroup2 cgroup the test made),
     * and returns its pid once it is dead; the v1 memory cgroup of the kill is removed again.
     *
     * @param victimPath its path in the cgroup2 hierarchy (for {@link #lastMemcgPath()} on a pure cgroup2 host)
     */
    public long kill(Path victim, String victimPath) {
        try {
            Path memcg;
            if (memory != null) {
                memcg = memory.create(victim.getFileName().toString());
                Files.writeString(memcg.resolve("memory.limit_in_bytes"), Long.toString(LIMIT));
                if (Files.exists(memcg.resolve("memory.memsw.limit_in_bytes"))) {
                    Files.writeString(memcg.resolve("memory.memsw.limit_in_bytes"), Long.toString(LIMIT)); // no swap
                }
                lastMemcgPath = memory.parentPath() + "/" + victim.getFileName();
            } else {
                memcg = victim;
                Path control = victim.getParent().resolve("cgroup.subtree_control");
                if (!List.of(Files.readString(control).strip().split(" ")).contains("memory")) {
                    Files.writeString(control, "+memory");
                }
                Files.writeString(victim.resolve("memory.max"), Long.toString(LIMIT));
                if (Files.exists(victim.resolve("memory.swap.max"))) {
                    Files.writeString(victim.resolve("memory.swap.max"), "0");
                }
                lastMemcgPath = victimPath;
            }
            Process p = new ProcessBuilder("sh", "-c", "echo $$ > \"$1\"/cgroup.procs && echo $$ > \"$2\"/cgroup.procs"
                    + " && exec dd if=/dev/zero of=/dev/null bs=64M count=1", "sh", victim.toString(), memcg.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("dd was not killed within " + WAIT);
            }
            if (p.exitValue() != 128 + 9) {
                throw new AssertionError("dd ended with " + p.exitValue() + ", not by SIGKILL");
            }
            long counted = kernelOomKills(memcg);
            if (counted < 1) {
                throw new AssertionError("the kernel counted no OOM kill in " + memcg);
            }
            if (memory != null) {
                removeSoon(memcg);
            }
            return p.pid();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** {@code oom_kill} of the memcg's {@code memory.oom_control} (v1) or {@code memory.events}. */
    private long kernelOomKills(Path memcg) throws IOException {
        Path file = memcg.resolve(memory != null ? "memory.oom_control" : "memory.events");
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("oom_kill ")) {
                return Long.parseLong(line.substring(9).strip());
            }
        }
        throw new AssertionError("no oom_kill in " + file);
    }

    /** The path, in its own hierarchy, of the memory cgroup whose limit the last kill hit. */
    public String lastMemcgPath() {
        return lastMemcgPath;
    }

    /** rmdir as soon as the kernel lets it (a killed task leaves its cgroup a moment after it is reaped). */
    public static void removeSoon(Path dir) {
        Await.until(WAIT, () -> {
            try {
                Files.deleteIfExists(dir);
                return true;
            } catch (IOException busy) {
                return false;
            }
        }, () -> "cannot remove " + dir);
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close();
        }
    }
}
