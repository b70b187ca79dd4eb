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

import java.io.IOException;
import java.util.List;
import java.util.logging.Logger;

/**
 * Starts the cgroup index with the first source of its fallback chain that the kernel accepts:
 * {@code --cgroup.index-mode=auto} tries fanotify events, then periodic sweeps (kernels before 6.6
 * give kernfs no fsid; no CAP_SYS_ADMIN); {@code fanotify} and {@code sweep} try only theirs. A
 * source that gives up later (the fanotify fd lost, a new mark refused after the privilege drop)
 * hands the index to sweeps, whatever the mode. The {@link IndexKeeper} runs each source.
 */
public final class IndexComponent implements Component {
    private static final Logger LOG = Logger.getLogger(IndexComponent.class.getName());

    private final Config config;
    private final CgroupIndex index;
    private CgroupFs fs;
    private Sweeper tree;
    private IndexKeeper keeper;

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

    /** The sweep loop while it keeps the index, else null. */
    public SweepLoop sweeps() {
        return keeper != null && keeper.current() instanceof SweepLoop s ? s : null;
    }

    /** The sources to try in order; the last one's refusal fails the start. */
    private List<Candidate> chain() {
        Candidate fanotify = new Candidate("fanotify", "fanotify",
                why -> new CgroupWatcher(fs, keeper, config.unlimitedQueue()));
        Candidate sweeps = new Candidate("sweeping", "sweeps every " + config.sweepInterval().toMillis() + " ms",
                this::sweeps);
        return switch (config.indexMode()) {
            case AUTO -> List.of(fanotify, sweeps);
            case FANOTIFY -> List.of(fanotify);
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
        List<Candidate> chain = chain();
        String why = null;
        for (int i = 0; ; i++) {
            Candidate link = chain.get(i);
            try {
                IndexSource source = link.open().open(why);
                keeper.start(source); // closes the source when it fails
                started(source, t0);
                return;
            } catch (IOException e) {
                if (i == chain.size() - 1) {
                    throw new StartupException(config.indexMode() == Config.IndexMode.FANOTIFY
                            ? "--cgroup.index-mode=fanotify: " + e.getMessage()
                            : "cannot index " + fs.mountPoint() + ": " + e.getMessage(), e);
                }
                LOG.warning(link.name() + " refused, falling back to " + chain.get(i + 1).asFallback() + ": "
                        + e.getMessage());
                why = link.name() + " refused: " + e.getMessage();
            }
        }
    }

    /** The one line that says how the index started. */
    private void started(IndexSource source, long t0) {
        long millis = (System.nanoTime() - t0) / 1_000_000;
        if (source instanceof CgroupWatcher w) {
            LOG.info("index: cgroup root " + fs.mountPoint() + " (fsid " + fs.fsidText() + "), mode fanotify"
                    + (w.unlimitedQueue() ? " with FAN_UNLIMITED_QUEUE" : " with the bounded queue")
                    + ", " + index.liveCount() + " cgroups in " + millis + " ms");
        } else {
            LOG.info("index: cgroup root " + fs.mountPoint() + ", mode " + source.mode().label() + ", "
                    + index.liveCount() + " cgroups in " + millis + " ms");
        }
    }

    @Override
    public void stop() {
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
