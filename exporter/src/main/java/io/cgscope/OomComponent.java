package io.cgscope;

import io.cgscope.bpf.BpfHierarchy;
import io.cgscope.bpf.OomKills;
import io.cgscope.bpf.OomRecord;
import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.index.OomKill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The OOM kill program ({@code --bpf.programs=oom}): loads it apart from the companion, and turns
 * each kill it reports into an {@code oom_kill} of the change history ({@code /events}) of the
 * hierarchy in use, named at once: the victim's cgroup (the program records it in the hierarchy in
 * use, as the companion counts) by that hierarchy's index (which keeps removed cgroups), else by the
 * path the program recorded; the memory cgroup whose limit was hit by the index of its own
 * hierarchy (cgroup2 or the v1 {@code memory} one), else by the recorded path. Never fails the start.
 */
public final class OomComponent implements Component {
    private static final Logger LOG = Logger.getLogger(OomComponent.class.getName());

    private final HierarchyIndexes indexes;
    private final OomKills kills;
    private final boolean wanted;
    /** hierarchy id -> its name in /proc/self/cgroup ({@code memory}); 0 is cgroup2. */
    private final Map<Integer, String> hierarchies = new HashMap<>();

    /** With one index, the unified hierarchy's (tests). */
    public OomComponent(boolean wanted, int maxCgroups, CgroupIndex index) {
        this(wanted, maxCgroups, HierarchyIndexes.unified(index, ""), BpfHierarchy.unified());
    }

    /** @param hierarchy the hierarchy in use, as the program finds a task's cgroup in it */
    public OomComponent(boolean wanted, int maxCgroups, HierarchyIndexes indexes, BpfHierarchy hierarchy) {
        this.wanted = wanted;
        this.indexes = indexes;
        this.kills = new OomKills(maxCgroups, hierarchy, this::killed);
    }

    @Override
    public String name() {
        return "oom";
    }

    /** The program: its counts for the metrics, its state for {@code cgscope_bpf_program_up}. */
    public OomKills kills() {
        return kills;
    }

    @Override
    public void start() {
        if (!wanted) {
            return;
        }
        hierarchies.putAll(hierarchyNames());
        kills.start();
    }

    /** {@code /proc/self/cgroup}: {@code 4:memory:/x} names hierarchy 4 {@code memory}; {@code 0::/} is cgroup2. */
    static Map<Integer, String> hierarchyNames() {
        Map<Integer, String> out = new HashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length == 3) {
                    out.put(Integer.parseInt(f[0]), f[0].equals("0") ? "cgroup2" : f[1]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // names stay unknown: the events then say the hierarchy's id
        }
        return out;
    }

    /** On the program's reader thread, once per kill. */
    private void killed(OomRecord r) {
        long ageNanos = Math.max(0, System.nanoTime() - r.timeNanos());
        Instant time = Instant.ofEpochMilli(System.currentTimeMillis() - ageNanos / 1_000_000);
        String cgroupPath = null;
        if (r.cgroupId() != 0) {
            cgroupPath = indexes.inUse().index().lookup(r.cgroupId()).map(Cgroup::path).orElse(null);
            if (cgroupPath == null) {
                cgroupPath = r.cgroupPath().isEmpty() ? "/" : r.cgroupPath();
            }
        }
        String memcgPath = null;
        String hierarchy = null;
        if (r.memcgId() != 0) {
            hierarchy = hierarchies.getOrDefault(r.memcgHierarchy(), "hierarchy " + r.memcgHierarchy());
            for (HierarchyIndexes.Indexed h : indexes.all()) {
                if (h.id() == r.memcgHierarchy()) {
                    memcgPath = h.index().pathOf(r.memcgId());
                }
            }
            if (memcgPath == null) {
                memcgPath = r.memcgPath().isEmpty() ? "/" : r.memcgPath();
            }
        }
        OomKill kill = new OomKill(r.pid(), r.comm(), r.cgroupId(), cgroupPath, r.memcgId(), memcgPath, hierarchy,
                r.kind().label(), r.memcgSource().label(), time);
        LOG.info("oom kill: pid " + r.pid() + " (" + r.comm() + ") in " + cgroupPath + ", " + (r.kind().label() == null
                ? "unknown OOM" : r.kind().label() + " OOM") + (memcgPath == null ? "" : " of " + hierarchy + " "
                + memcgPath));
        indexes.inUse().index().oomKilled(kill);
    }

    @Override
    public void stop() {
        kills.close();
    }
}
