package io.cgscope.accounting;

import io.cgscope.linux.DirFileReader;
import io.cgscope.linux.Errno;

import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * Reads the accounting files of every live cgroup of one {@link Hierarchy} at each
 * {@link #scrape()}, and keeps each cgroup's last values ({@link Cgroup}) until the collector has
 * folded them after the cgroup is gone ({@link #forget}).
 *
 * <p><b>Cost.</b> Per cgroup and scrape: one {@code openat} of its directory relative to the
 * hierarchy's root fd (the path bytes come from the index once, when the cgroup is first seen),
 * one {@code fstat} (is it still the cgroup of that id?), then {@code openat} + {@code read} +
 * {@code close} per file, relative to that directory: no path string per file, no fd kept between
 * scrapes (a host limits fds: 20,000 here, and 10,000 cgroups with a dozen files each would need
 * far more). A file a cgroup does not have (a controller not enabled for it, {@code memory.peak}
 * before 5.19, {@code irq.pressure} without {@code CONFIG_IRQ_TIME_ACCOUNTING}) is remembered as
 * absent and tried again only every {@link #PROBE_EVERY} scrapes.
 *
 * <p><b>Races.</b> A cgroup removed during the scrape (its directory or a file gone: ENOENT,
 * ENODEV), or whose path now names a newer cgroup (another id), is skipped without an error; its
 * values stay as last read. Hierarchical values: only cgroups whose label is their own path are
 * read (with {@code --cgroup.max-depth} a deeper cgroup's values are already in its ancestor's).
 *
 * <p>One thread at a time (the scrape's).
 */
public final class HierarchyReader implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HierarchyReader.class.getName());
    /** Scrapes between two tries of a file a cgroup did not have. */
    static final int PROBE_EVERY = 16;

    /** What the reader keeps of one cgroup id. */
    public static final class Cgroup {
        private final long id;
        private final byte[] path;
        private final String label;
        private final CgroupStats stats = new CgroupStats();
        private boolean live = true;
        private boolean readThisScrape;
        private int absentFiles;

        Cgroup(long id, byte[] path, String label) {
            this.id = id;
            this.path = path;
            this.label = label;
        }

        public long id() {
            return id;
        }

        /** Its {@code cgroup} label; null when it is not collected (filtered, or below the roll-up depth). */
        public String label() {
            return label;
        }

        public CgroupStats stats() {
            return stats;
        }

        /** Whether it was live and read in the last scrape (its gauges are current). */
        public boolean readThisScrape() {
            return readThisScrape;
        }

        boolean removable() {
            return !live && stats.counterMask == 0 && stats.io.isEmpty();
        }
    }

    private final Hierarchy hierarchy;
    private final List<CgroupFiles.Spec> specs;
    private final UnaryOperator<String> labeler;
    private final Map<Long, Cgroup> cgroups = new HashMap<>();
    private final DirFileReader files = new DirFileReader(16 * 1024);
    private final CgroupFiles.Scratch scratch = new CgroupFiles.Scratch();
    private byte[] buf = new byte[16 * 1024];
    private long scrapes;
    private long readErrors;
    private int readThisScrape;
    /** The index's live ids of this scrape (reused: grows, never shrinks). */
    private long[] live = new long[256];
    private int liveCount;

    /**
     * @param families the families to read here (those this hierarchy {@link Hierarchy#serves})
     * @param labeler  a path's {@code cgroup} label, or null when the cgroup is not exported
     */
    public HierarchyReader(Hierarchy hierarchy, Set<Family> families, UnaryOperator<String> labeler) {
        this.hierarchy = hierarchy;
        this.specs = CgroupFiles.specs(hierarchy.version(), families);
        this.labeler = labeler;
    }

    public Hierarchy hierarchy() {
        return hierarchy;
    }

    /** The files read per cgroup. */
    public List<CgroupFiles.Spec> specs() {
        return specs;
    }

    /**
     * Reads every live cgroup of the index; marks the others dead (their counters stay until
     * {@link #forget}). Never throws for a cgroup that vanished; other errors are counted.
     *
     * @return every cgroup kept: read now, or gone with values still to fold
     */
    public Collection<Cgroup> scrape() {
        scrapes++;
        readThisScrape = 0;
        liveCount = 0;
        hierarchy.index().forEachLive(id -> {
            if (liveCount == live.length) {
                live = java.util.Arrays.copyOf(live, liveCount * 2);
            }
            live[liveCount++] = id;
        });
        for (Cgroup c : cgroups.values()) {
            c.live = false;
            c.readThisScrape = false;
        }
        for (int i = 0; i < liveCount; i++) {
            long id = live[i];
            Cgroup c = cgroups.get(id);
            if (c == null) {
                c = learn(id);
                if (c == null) {
                    continue; // an ancestor not named yet: next scrape
                }
            }
            c.live = true;
            if (c.label != null) {
                read(c);
            }
        }
        for (Iterator<Cgroup> it = cgroups.values().iterator(); it.hasNext(); ) {
            if (it.next().removable()) {
                it.remove();
            }
        }
        return cgroups.values();
    }

    private Cgroup learn(long id) {
        String path = hierarchy.index().pathOf(id);
        byte[] bytes = hierarchy.index().pathBytes(id);
        if (path == null || bytes == null) {
            return null;
        }
        String label = labeler.apply(path);
        // hierarchical files: a cgroup rolled up into an ancestor is in the ancestor's values already
        Cgroup c = new Cgroup(id, bytes, label != null && label.equals(path) ? label : null);
        cgroups.put(id, c);
        return c;
    }

    private void read(Cgroup c) {
        long ino = files.openDir(hierarchy.root(), c.path);
        if (ino < 0) {
            if (!gone((int) -ino)) {
                error("openat(" + hierarchy.name() + " cgroup " + Long.toUnsignedString(c.id) + ")", (int) -ino);
            }
            return;
        }
        try {
            if (ino != c.id) {
                return; // the path names a newer cgroup now; this one is gone
            }
            boolean probe = (scrapes + c.id) % PROBE_EVERY == 0;
            if (probe) {
                c.absentFiles = 0;
            }
            c.stats.gaugeMask = 0;
            for (int f = 0; f < specs.size(); f++) {
                if ((c.absentFiles & 1 << f) != 0) {
                    continue;
                }
                CgroupFiles.Spec spec = specs.get(f);
                int n = files.read(spec.name(), buf);
                if (n == -Errno.EFBIG) {
                    buf = new byte[buf.length * 4];
                    n = files.read(spec.name(), buf);
                }
                if (n == -Errno.ENOENT) {
                    c.absentFiles |= 1 << f;
                    continue;
                }
                if (n == -Errno.ENODEV) {
                    return; // removed while we read it
                }
                if (n < 0) {
                    error("read(" + hierarchy.name() + " cgroup " + Long.toUnsignedString(c.id) + " " + spec.fileName()
                            + ")", -n);
                    continue;
                }
                spec.parse().into(buf, n, c.stats, scratch);
            }
            c.readThisScrape = true;
            readThisScrape++;
        } finally {
            files.closeDir();
        }
    }

    private static boolean gone(int errno) {
        return errno == Errno.ENOENT || errno == Errno.ENODEV || errno == Errno.ENOTDIR || errno == Errno.ESTALE;
    }

    private void error(String call, int errno) {
        if (readErrors++ == 0) {
            LOG.warning("cgroupfs: " + call + " failed: " + Errno.describe(errno)
                    + " (counted in cgscope_cgroupfs_read_errors_total; logged once)");
        }
    }

    /** The main counters of a gone cgroup were folded: they are not offered again. */
    public void forget(long id) {
        Cgroup c = cgroups.get(id);
        if (c != null && !c.live) {
            c.stats.counterMask = 0;
            if (c.removable()) {
                cgroups.remove(id);
            }
        }
    }

    /** The IO counters of a gone cgroup on one device were folded. */
    public void forgetDevice(long id, long device) {
        Cgroup c = cgroups.get(id);
        if (c != null && !c.live) {
            c.stats.io.remove(device);
            if (c.removable()) {
                cgroups.remove(id);
            }
        }
    }

    /** Unexpected errors so far (an errno other than the cgroup having gone). */
    public long readErrors() {
        return readErrors;
    }

    /** Cgroups read in the last scrape. */
    public int readInLastScrape() {
        return readThisScrape;
    }

    /** Cgroups kept (live, and gone with values still to fold). */
    public int kept() {
        return cgroups.size();
    }

    @Override
    public void close() {
        files.close();
    }
}
