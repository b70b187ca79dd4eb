package io.cgscope.testing;

import io.cgscope.cgroupfs.Mountinfo;
import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Real cgroups for tests, all below one unique parent directly under the cgroup2 root
 * ({@code cgscope-test-<pid>-<n>}). {@link #close()} ends every process inside by its PID,
 * then removes the cgroups children first.
 */
public final class TestCgroups implements AutoCloseable {
    private final Path mount;
    private final Path parent;

    public TestCgroups() {
        this(hierarchyRoot().orElseThrow(() -> new IllegalStateException("no cgroup2 hierarchy")));
    }

    /**
     * Test cgroups in the hierarchy mounted at {@code mount}: a v1 one too ({@code /sys/fs/cgroup/cpu},
     * {@code /sys/fs/cgroup/systemd}). Never the v1 memory hierarchy: the machine's own processes live there.
     */
    public TestCgroups(Path mount) {
        this.mount = mount;
        this.parent = mount.resolve("cgscope-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            Files.createDirectory(parent);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cgroup2 mount point of the whole hierarchy, if any. */
    public static Optional<Path> hierarchyRoot() {
        try {
            return Mountinfo.hierarchyRoot(Files.readAllLines(Path.of("/proc/self/mountinfo")))
                    .map(m -> Path.of(m.mountPoint()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public Path mount() {
        return mount;
    }

    /** The unique parent, as a directory. */
    public Path parent() {
        return parent;
    }

    /** The parent's path relative to the hierarchy root, as the index names it. */
    public String parentPath() {
        return mount.relativize(parent).toString();
    }

    /** The live cgroups at and below the parent as the file system has them: id -> path. */
    public Map<Long, String> tree() throws IOException {
        Map<Long, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(parent)) {
            walk.filter(Files::isDirectory).forEach(d -> out.put(id(d), mount.relativize(d).toString()));
        }
        return out;
    }

    /** The live cgroups at and below the parent as {@code index} has them: id -> path. */
    public Map<Long, String> indexed(CgroupIndex index) {
        Map<Long, String> out = new TreeMap<>();
        for (Cgroup c : index.list(parentPath(), CgroupIndex.StateFilter.LIVE, 1_000_000).cgroups()) {
            out.put(c.id(), c.path());
        }
        return out;
    }

    /** Creates {@code relative} (and missing ancestors) below the parent; returns its directory. */
    public Path create(String relative) {
        Path dir = parent.resolve(relative);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /** The kernfs id of a cgroup directory: its inode number. */
    public static long id(Path dir) {
        try {
            return (Long) Files.getAttribute(dir, "unix:ino");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Moves a process into a cgroup by writing its PID to {@code cgroup.procs}. */
    public static void move(long pid, Path cgroup) {
        try {
            Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(pid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes one empty cgroup directory. */
    public static void remove(Path dir) {
        try {
            Files.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        removeTree(parent);
    }

    /** Ends the processes in every cgroup below {@code top} by PID, then removes the directories deepest first. */
    public static void removeTree(Path top) {
        if (!Files.isDirectory(top)) {
            return;
        }
        List<Path> dirs = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(top)) {
            walk.filter(Files::isDirectory).forEach(dirs::add);
        } catch (IOException | UncheckedIOException e) {
            // directories vanishing during the walk: take what we have
        }
        dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path d : dirs) {
            killProcesses(d);
        }
        for (Path d : dirs) {
            rmdirRetrying(d);
        }
    }

    private static void killProcesses(Path cgroup) {
        List<ProcessHandle> victims = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    ProcessHandle.of(Long.parseLong(line.strip())).ifPresent(victims::add);
                }
            }
        } catch (IOException e) {
            return;
        }
        for (ProcessHandle p : victims) {
            p.destroyForcibly();
        }
        for (ProcessHandle p : victims) {
            p.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> p).join();
        }
    }

    private static void rmdirRetrying(Path dir) {
        // A just-killed process leaves its cgroup a moment later (the cgroup is still "populated").
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (NoSuchFileException e) {
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    System.err.println("TestCgroups: could not remove " + dir + ": " + e);
                    return;
                }
                try {
                    Thread.sleep(5); // polling the condition "rmdir succeeds"; nothing to block on
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
