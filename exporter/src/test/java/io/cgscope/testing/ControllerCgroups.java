package io.cgscope.testing;

import io.cgscope.accounting.V1Mounts;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Real cgroups that have one controller's files, below a unique parent, wherever this host has
 * that controller: in its v1 hierarchy when one is mounted (a hybrid host like the test machine),
 * else in cgroup2 with the controller enabled down to them. And an index of that hierarchy, kept
 * by sweeps of the test's own branch ({@link #sync()}): the agent's index follows only cgroup2.
 *
 * <p>The rules of the test machine hold: in the v1 {@code memory} hierarchy the parent is made
 * inside this process's own memory cgroup ({@code /proc/self/cgroup}), so a limit set below it
 * constrains only what the test moves there (a child of this process, which stays inside its
 * own memory cgroup), and limits are written only on cgroups made here. {@link #close()} ends
 * the processes inside by PID and removes the cgroups, children first.
 */
public final class ControllerCgroups implements AutoCloseable {
    /** Not a controller: cgroup2 cgroups for the pressure files. */
    public static final String PRESSURE = "pressure";
    private final String controller;
    private final Path mount;
    private final Path parent;
    private final boolean v1;
    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15), new FakeTicker(), Clock.systemUTC());

    private ControllerCgroups(String controller, Path mount, Path parent, boolean v1) {
        this.controller = controller;
        this.mount = mount;
        this.parent = parent;
        this.v1 = v1;
        index.root(TestCgroups.id(mount));
    }

    /**
     * Where this host has {@code controller} ({@code cpu}, {@code memory}, {@code pids}; {@code io}
     * is {@code blkio} in v1), or empty with nothing made. {@link #PRESSURE} gives cgroup2 cgroups
     * with no controller enabled: pressure files are no controller's.
     */
    public static Optional<ControllerCgroups> of(String controller) {
        String v1Name = controller.equals("io") ? "blkio" : controller;
        try {
            if (controller.equals(PRESSURE)) {
                Optional<Path> v2 = TestCgroups.hierarchyRoot();
                if (v2.isEmpty()) {
                    return Optional.empty();
                }
                Path parent = Files.createDirectory(v2.get().resolve("cgscope-test-" + ProcessHandle.current().pid()
                        + "-" + System.nanoTime()));
                return Optional.of(new ControllerCgroups(controller, v2.get(), parent, false));
            }
            Map<String, String> v1 = V1Mounts.controllers(Files.readAllLines(Path.of("/proc/self/mountinfo")));
            String unique = "cgscope-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
            if (v1.containsKey(v1Name)) {
                Path mount = Path.of(v1.get(v1Name));
                Path base = controller.equals("memory") ? mount.resolve(ownCgroup("memory")) : mount;
                Path parent = Files.createDirectory(base.resolve(unique));
                return Optional.of(new ControllerCgroups(controller, mount, parent, true));
            }
            Optional<Path> v2 = TestCgroups.hierarchyRoot();
            if (v2.isEmpty() || !List.of(Files.readString(v2.get().resolve("cgroup.controllers")).strip().split(" "))
                    .contains(controller)) {
                return Optional.empty();
            }
            if (!List.of(Files.readString(v2.get().resolve("cgroup.subtree_control")).strip().split(" "))
                    .contains(controller)) {
                return Optional.empty(); // not enabled for the root's children: not ours to change
            }
            Path parent = Files.createDirectory(v2.get().resolve(unique));
            Files.writeString(parent.resolve("cgroup.subtree_control"), "+" + controller);
            return Optional.of(new ControllerCgroups(controller, v2.get(), parent, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This process's cgroup in the v1 hierarchy of {@code controller}, relative to its root ({@code process_api/x}). */
    static String ownCgroup(String controller) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains(controller)) {
                return f[2].startsWith("/") ? f[2].substring(1) : f[2];
            }
        }
        throw new IOException("no " + controller + " line in /proc/self/cgroup");
    }

    public boolean isV1() {
        return v1;
    }

    public Path mount() {
        return mount;
    }

    /** The unique parent's path relative to the hierarchy root, as the index names it. */
    public String parentPath() {
        return mount.relativize(parent).toString();
    }

    /** Creates {@code name} below the parent (a leaf: in cgroup2 the controller is enabled in the parent). */
    public Path create(String name) {
        try {
            return Files.createDirectory(parent.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The index of this hierarchy. */
    public CgroupIndex index() {
        return index;
    }

    /**
     * Makes the index equal to the tree from the root down to the parent and below it (other
     * branches, other tests' cgroups, are not looked at): new cgroups are added, gone ones dead.
     */
    public void sync() {
        List<CgroupIndex.Discovered> found = new ArrayList<>();
        Path at = mount;
        for (Path segment : mount.relativize(parent)) {
            Path next = at.resolve(segment);
            found.add(new CgroupIndex.Discovered(TestCgroups.id(next), TestCgroups.id(at), bytes(segment)));
            at = next;
        }
        walk(parent, found);
        index.reconcile(found, Source.SWEEP, true);
        index.maintain();
    }

    private static void walk(Path dir, List<CgroupIndex.Discovered> into) {
        long id;
        try {
            id = (Long) Files.getAttribute(dir, "unix:ino");
        } catch (IOException e) {
            return; // removed meanwhile
        }
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path child : children) {
                try {
                    into.add(new CgroupIndex.Discovered((Long) Files.getAttribute(child, "unix:ino"), id,
                            bytes(child.getFileName())));
                } catch (IOException e) {
                    continue; // removed meanwhile
                }
                walk(child, into);
            }
        } catch (IOException e) {
            // removed meanwhile
        }
    }

    private static byte[] bytes(Path name) {
        return name.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Starts {@code command} under {@code sh -c} inside {@code cgroup} from its first instruction. */
    public static Process start(Path cgroup, String command) {
        try {
            return new ProcessBuilder("sh", "-c", "echo $$ > \"$1\"/cgroup.procs && " + command, "sh", cgroup.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return controller + " in " + (v1 ? "v1 " : "cgroup2 ") + parent;
    }

    @Override
    public void close() {
        TestCgroups.removeTree(parent);
    }
}
