package io.cgscope;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.SweepLoop;
import io.cgscope.config.Config;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.index.IndexSource;
import io.cgscope.lifecycle.CrossCheck;
import io.cgscope.lifecycle.CrossCheckReader;
import io.cgscope.lifecycle.LifecycleHub;
import io.cgscope.lifecycle.LifecycleWatcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Starts the index of every cgroup hierarchy ({@link HierarchyIndexes}: the unified one and each
 * mounted v1 hierarchy), each with the first source of its fallback chain that the kernel accepts
 * ({@link HierarchyIndexing}): {@code --cgroup.index-mode=auto} tries fanotify events, then the
 * BPF lifecycle programs (kernels before 6.6 give kernfs no fsid, so the mark is refused there;
 * no CAP_SYS_ADMIN), then periodic sweeps (no BTF, no CAP_BPF); {@code fanotify}, {@code bpf} and
 * {@code sweep} try only theirs. The BPF programs are shared by every hierarchy that uses them.
 * The hierarchy in use and the unified one must start; another v1 hierarchy that cannot be indexed
 * is left out with a warning. In {@code crosscheck} mode fanotify keeps the unified index while the
 * BPF programs run beside it and a {@link CrossCheck} compares the ids each learned.
 */
public final class IndexComponent implements Component {
    private static final Logger LOG = Logger.getLogger(IndexComponent.class.getName());
    /** How long after an id's first sighting the other source may still report it (crosscheck). */
    private static final long CROSSCHECK_GRACE_NANOS = 5_000_000_000L;

    private final Config config;
    private final HierarchyIndexes hierarchies;
    private final List<HierarchyIndexing> indexing = new ArrayList<>();
    private final CrossCheck crossCheck;
    private CrossCheckReader crossReader;
    private LifecycleHub hub;

    /** Indexes the unified hierarchy only (tests). */
    public IndexComponent(Config config, CgroupIndex index) {
        this(config, HierarchyIndexes.unified(index, ""));
    }

    public IndexComponent(Config config, HierarchyIndexes hierarchies) {
        this.config = config;
        this.hierarchies = hierarchies;
        this.crossCheck = config.indexMode() == Config.IndexMode.CROSSCHECK
                ? new CrossCheck(CROSSCHECK_GRACE_NANOS, System::nanoTime) : null;
    }

    @Override
    public String name() {
        return "index";
    }

    /** The unified hierarchy's index (or the one in use where no cgroup2 is mounted). */
    public CgroupIndex index() {
        return hierarchies.unified().orElse(hierarchies.inUse()).index();
    }

    public HierarchyIndexes hierarchies() {
        return hierarchies;
    }

    /** The mount point of an indexed hierarchy (for absolute paths): where it was opened, else null. */
    public java.nio.file.Path mountPoint(HierarchyIndexes.Indexed hierarchy) {
        for (HierarchyIndexing h : indexing) {
            if (h.hierarchy() == hierarchy && h.fs() != null) {
                return h.fs().mountPoint();
            }
        }
        return hierarchy.mountPoint() == null || hierarchy.mountPoint().isEmpty() ? null
                : java.nio.file.Path.of(hierarchy.mountPoint());
    }

    /** The comparison of fanotify and BPF in crosscheck mode, else null. */
    public CrossCheck crossCheck() {
        return crossCheck;
    }

    /** Records the BPF side of the crosscheck lost to a full ring (0 in other modes). */
    public long crossCheckLost() {
        CrossCheckReader r = crossReader;
        return r == null ? 0 : r.lost();
    }

    private IndexSource unifiedSource() {
        for (HierarchyIndexing h : indexing) {
            if (h.hierarchy().index() == index()) {
                return h.current();
            }
        }
        return null;
    }

    /** The unified hierarchy's fanotify watcher while it keeps the index, else null. */
    public CgroupWatcher watcher() {
        return unifiedSource() instanceof CgroupWatcher w ? w : null;
    }

    /** The unified hierarchy's BPF source while it keeps the index, else null. */
    public LifecycleWatcher lifecycle() {
        return unifiedSource() instanceof LifecycleWatcher w ? w : null;
    }

    /** The unified hierarchy's sweep loop while it keeps the index, else null. */
    public SweepLoop sweeps() {
        return unifiedSource() instanceof SweepLoop s ? s : null;
    }

    private synchronized LifecycleHub hub() {
        if (hub == null) {
            hub = new LifecycleHub(config.bpfRingBytes());
        }
        return hub;
    }

    @Override
    public void start() throws StartupException {
        long t0 = System.nanoTime();
        HierarchyIndexes.Indexed primary = hierarchies.unified().orElse(hierarchies.inUse());
        HierarchyIndexing first = new HierarchyIndexing(config, primary, this::hub);
        indexing.add(first);
        first.open();
        if (crossCheck != null) {
            startCrossCheckReader();
        }
        IndexSource source;
        try {
            source = first.start(config.indexMode());
        } catch (StartupException e) {
            closeCrossCheck();
            throw e;
        }
        started(first.fs(), primary, source, t0);
        if (crossCheck != null) {
            fence(first.fs());
        }
        startV1(primary);
        if (hierarchies.all().size() > 1 || hierarchies.inUse() != primary) {
            LOG.info("index: metrics and /cgroup/<id> name cgroups by the hierarchy " + hierarchies.inUse().name()
                    + " (" + hierarchies.why() + ")");
        }
    }

    /** Every other hierarchy: v1, in the mode asked for (crosscheck compares the unified one only). */
    private void startV1(HierarchyIndexes.Indexed primary) throws StartupException {
        long t0 = System.nanoTime();
        Config.IndexMode mode = config.indexMode() == Config.IndexMode.CROSSCHECK ? Config.IndexMode.AUTO
                : config.indexMode();
        List<String> started = new ArrayList<>();
        for (HierarchyIndexes.Indexed h : hierarchies.all()) {
            if (h == primary) {
                continue;
            }
            HierarchyIndexing one = new HierarchyIndexing(config, h, this::hub);
            indexing.add(one);
            try {
                one.open();
                IndexSource s = one.start(mode);
                started.add(h.name() + " " + s.mode().label());
            } catch (StartupException e) {
                if (h == hierarchies.inUse()) {
                    throw new StartupException("cannot index the hierarchy " + h.name() + " (--cgroup.hierarchy): "
                            + e.getMessage(), e.exitCode(), e);
                }
                LOG.warning("index: the v1 hierarchy " + h.name() + " at " + h.mountPoint() + " is not indexed: "
                        + e.getMessage());
                h.index().health().notFollowing("not indexed: " + e.getMessage());
            }
        }
        if (!started.isEmpty()) {
            LOG.info("index: v1 hierarchies " + String.join(", ", started) + "; "
                    + started.size() + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        }
    }

    /** The one line that says how the primary index started. */
    private void started(CgroupFs fs, HierarchyIndexes.Indexed h, IndexSource source, long t0) {
        long millis = (System.nanoTime() - t0) / 1_000_000;
        CgroupIndex index = h.index();
        String root = h.id() == 0 ? "cgroup root " + fs.mountPoint() : "cgroup v1 hierarchy " + h.name() + " at "
                + fs.mountPoint();
        if (source instanceof CgroupWatcher w) {
            LOG.info("index: " + root + " (fsid " + fs.fsidText() + "), mode fanotify"
                    + (w.unlimitedQueue() ? " with FAN_UNLIMITED_QUEUE" : " with the bounded queue")
                    + ", " + index.liveCount() + " cgroups in " + millis + " ms");
        } else if (source instanceof LifecycleWatcher w) {
            LOG.info("index: " + root + ", mode bpf (cgroup_mkdir/cgroup_rmdir tracepoints, ring "
                    + w.ringBytes() / 1024 + " KiB), " + index.liveCount() + " cgroups in " + millis + " ms");
        } else {
            LOG.info("index: " + root + ", mode " + source.mode().label() + ", "
                    + index.liveCount() + " cgroups in " + millis + " ms");
        }
    }

    /**
     * crosscheck: the BPF side is attached before fanotify keeps the index, so that whatever
     * fanotify sees, BPF sees too; fanotify's event ids are reported from the index's writer.
     */
    private void startCrossCheckReader() throws StartupException {
        try {
            crossReader = new CrossCheckReader(crossCheck, config.bpfRingBytes());
        } catch (io.cgscope.bpf.BpfException | IOException e) {
            throw new StartupException("--cgroup.index-mode=crosscheck: " + e.getMessage(), e);
        }
        index().observeEventIds(id -> crossCheck.seen(CrossCheck.Side.FANOTIFY, id));
    }

    /**
     * crosscheck: once both sides are attached, a cgroup made and removed at the root; ids only
     * grow, so every id from its id on is one both sides must see.
     */
    private void fence(CgroupFs fs) throws StartupException {
        Path fence = fs.mountPoint().resolve("cgscope-crosscheck-fence-" + ProcessHandle.current().pid());
        try {
            Files.createDirectory(fence);
            long id = (Long) Files.getAttribute(fence, "unix:ino");
            crossCheck.fence(id);
            Files.delete(fence);
            LOG.info("index: crosscheck of fanotify and BPF from cgroup id " + Long.toUnsignedString(id)
                    + " on (the fence " + fence + ")");
        } catch (IOException | RuntimeException e) {
            throw new StartupException("--cgroup.index-mode=crosscheck: cannot make the fence cgroup " + fence + ": "
                    + e.getMessage(), e);
        }
    }

    private void closeCrossCheck() {
        if (crossReader != null) {
            crossReader.close();
            crossReader = null;
        }
    }

    @Override
    public void stop() {
        closeCrossCheck();
        for (int i = indexing.size() - 1; i >= 0; i--) {
            indexing.get(i).stop();
        }
        indexing.clear();
        if (hub != null) {
            hub.close(); // normally closed already by its last member
            hub = null;
        }
        for (HierarchyIndexes.Indexed h : hierarchies.all()) {
            h.index().health().notFollowing("stopped");
        }
    }
}
