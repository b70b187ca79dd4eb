package io.cgscope;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.CgroupFsException;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.cgroupfs.SweepLoop;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.config.Config;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.IndexSource;
import io.cgscope.lifecycle.CrossCheck;
import io.cgscope.lifecycle.CrossCheckReader;
import io.cgscope.lifecycle.LifecycleWatcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;

/**
 * Starts the cgroup index with the first source of its fallback chain that the kernel accepts:
 * {@code --cgroup.index-mode=auto} tries fanotify events, then the BPF lifecycle programs (kernels
 * before 6.6 give kernfs no fsid, so the mark is refused there; no CAP_SYS_ADMIN), then periodic
 * sweeps (no BTF, no CAP_BPF); {@code fanotify}, {@code bpf} and {@code sweep} try only theirs. A
 * source that gives up later (the fanotify fd lost, a new mark refused after the privilege drop)
 * hands the index to sweeps, whatever the mode. The {@link IndexKeeper} runs each source. In
 * {@code crosscheck} mode fanotify keeps the index while the BPF programs run beside it and a
 * {@link CrossCheck} compares the ids each learned.
 */
public final class IndexComponent implements Component {
    private static final Logger LOG = Logger.getLogger(IndexComponent.class.getName());
    /** How long after an id's first sighting the other source may still report it (crosscheck). */
    private static final long CROSSCHECK_GRACE_NANOS = 5_000_000_000L;

    private final Config config;
    private final CgroupIndex index;
    private CgroupFs fs;
    private Sweeper tree;
    private IndexKeeper keeper;
    private final CrossCheck crossCheck;
    private CrossCheckReader crossReader;

    /**
     * One link of the fallback chain.
     *
     * @param name       how a refusal names it ({@code fanotify refused: ...})
     * @param asFallback how the warning names it when the index falls back to it ({@code sweeps every 5000 ms})
     * @param open       makes the source, given why the index comes to it (null for the first one tried)
     */
    private record Candidate(String name, String asFallback, Opener open) {
    }

    private interface Opener {
        IndexSource open(String why) throws IOException;
    }

    public IndexComponent(Config config, CgroupIndex index) {
        this.config = config;
        this.index = index;
        this.crossCheck = config.indexMode() == Config.IndexMode.CROSSCHECK
                ? new CrossCheck(CROSSCHECK_GRACE_NANOS, System::nanoTime) : null;
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

    @Override
    public String name() {
        return "index";
    }

    public CgroupIndex index() {
        return index;
    }

    /** The fanotify watcher while it keeps the index, else null. */
    public CgroupWatcher watcher() {
        return keeper != null && keeper.current() instanceof CgroupWatcher w ? w : null;
    }

    /** The BPF lifecycle source while it keeps the index, else null. */
    public LifecycleWatcher lifecycle() {
        return keeper != null && keeper.current() instanceof LifecycleWatcher w ? w : null;
    }

    /** The sweep loop while it keeps the index, else null. */
    public SweepLoop sweeps() {
        return keeper != null && keeper.current() instanceof SweepLoop s ? s : null;
    }

    /** The sources to try in order; the last one's refusal fails the start. */
    private List<Candidate> chain() {
        Candidate fanotify = new Candidate("fanotify", "fanotify",
                why -> new CgroupWatcher(fs, keeper, config.unlimitedQueue()));
        Candidate bpf = new Candidate("BPF lifecycle programs", "the BPF lifecycle programs",
                why -> new LifecycleWatcher(keeper, config.bpfRingBytes()));
        Candidate sweeps = new Candidate("sweeping", "sweeps every " + config.sweepInterval().toMillis() + " ms",
                this::sweeps);
        return switch (config.indexMode()) {
            case AUTO -> List.of(fanotify, bpf, sweeps);
            case FANOTIFY, CROSSCHECK -> List.of(fanotify);
            case BPF -> List.of(bpf);
            case SWEEP -> List.of(sweeps);
        };
    }

    private SweepLoop sweeps(String why) {
        return new SweepLoop(keeper, config.sweepInterval(), why == null ? "--cgroup.index-mode=sweep" : why);
    }

    @Override
    public void start() throws StartupException {
        try {
            fs = CgroupFs.open(config.cgroupRoot());
        } catch (CgroupFsException e) {
            throw new StartupException(e.getMessage(), config.cgroupRoot() != null ? 2 : 1, e);
        }
        index.setResolver(new KernelLookup(fs));
        tree = new Sweeper(fs);
        keeper = new IndexKeeper(index, tree);
        keeper.onGiveUp(this::sweeps); // a lost fanotify fd that cannot be replaced: sweeps, in every mode
        long t0 = System.nanoTime();
        if (crossCheck != null) {
            startCrossCheckReader();
        }
        List<Candidate> chain = chain();
        String why = null;
        for (int i = 0; ; i++) {
            Candidate link = chain.get(i);
            try {
                IndexSource source = link.open().open(why);
                keeper.start(source); // closes the source when it fails
                started(source, t0);
                if (crossCheck != null) {
                    fence();
                }
                return;
            } catch (IOException e) {
                if (i == chain.size() - 1) {
                    if (crossReader != null) {
                        crossReader.close();
                        crossReader = null;
                    }
                    throw new StartupException(config.indexMode() != Config.IndexMode.AUTO
                            && config.indexMode() != Config.IndexMode.SWEEP
                            ? "--cgroup.index-mode=" + config.indexMode().name().toLowerCase(java.util.Locale.ROOT)
                                    + ": " + e.getMessage()
                            : "cannot index " + fs.mountPoint() + ": " + e.getMessage(), e);
                }
                LOG.warning(link.name() + " refused, falling back to " + chain.get(i + 1).asFallback() + ": "
                        + e.getMessage());
                why = link.name() + " refused: " + e.getMessage();
            }
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
        index.observeEventIds(id -> crossCheck.seen(CrossCheck.Side.FANOTIFY, id));
    }

    /**
     * crosscheck: once both sides are attached, a cgroup made and removed at the root; ids only
     * grow, so every id from its id on is one both sides must see.
     */
    private void fence() throws StartupException {
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

    /** The one line that says how the index started. */
    private void started(IndexSource source, long t0) {
        long millis = (System.nanoTime() - t0) / 1_000_000;
        if (source instanceof CgroupWatcher w) {
            LOG.info("index: cgroup root " + fs.mountPoint() + " (fsid " + fs.fsidText() + "), mode fanotify"
                    + (w.unlimitedQueue() ? " with FAN_UNLIMITED_QUEUE" : " with the bounded queue")
                    + ", " + index.liveCount() + " cgroups in " + millis + " ms");
        } else if (source instanceof LifecycleWatcher w) {
            LOG.info("index: cgroup root " + fs.mountPoint() + ", mode bpf (cgroup_mkdir/cgroup_rmdir tracepoints, ring "
                    + w.ringBytes() / 1024 + " KiB), " + index.liveCount() + " cgroups in " + millis + " ms");
        } else {
            LOG.info("index: cgroup root " + fs.mountPoint() + ", mode " + source.mode().label() + ", "
                    + index.liveCount() + " cgroups in " + millis + " ms");
        }
    }

    @Override
    public void stop() {
        if (crossReader != null) {
            crossReader.close();
            crossReader = null;
        }
        if (keeper != null) {
            keeper.close();
            keeper = null;
        } else {
            index.health().notFollowing("stopped");
        }
        if (tree != null) {
            tree.close();
            tree = null;
        }
        if (fs != null) {
            fs.close();
            fs = null;
        }
    }
}
