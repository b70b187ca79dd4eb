package io.cgscope;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.CgroupFsException;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.cgroupfs.SweepLoop;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.config.Config;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.IndexSource;
import io.cgscope.lifecycle.LifecycleHub;
import io.cgscope.lifecycle.LifecycleWatcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Keeps the index of one cgroup hierarchy: opens its mount, and starts the first source of the
 * fallback chain of {@code --cgroup.index-mode} that the kernel accepts (fanotify, then the BPF
 * lifecycle programs, then sweeps for {@code auto}), each refusal one warning. A source that
 * gives up later hands the index to sweeps. One per hierarchy; the BPF programs are shared by all.
 */
final class HierarchyIndexing {
    private static final Logger LOG = Logger.getLogger(IndexComponent.class.getName());

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

    private final Config config;
    private final HierarchyIndexes.Indexed hierarchy;
    private final Supplier<LifecycleHub> hub;
    private CgroupFs fs;
    private Sweeper tree;
    private IndexKeeper keeper;

    HierarchyIndexing(Config config, HierarchyIndexes.Indexed hierarchy, Supplier<LifecycleHub> hub) {
        this.config = config;
        this.hierarchy = hierarchy;
        this.hub = hub;
    }

    HierarchyIndexes.Indexed hierarchy() {
        return hierarchy;
    }

    CgroupFs fs() {
        return fs;
    }

    IndexKeeper keeper() {
        return keeper;
    }

    private boolean unified() {
        return hierarchy.id() == 0;
    }

    /** The sources to try in order for this mode; the last one's refusal fails the start. */
    private List<Candidate> chain(Config.IndexMode mode) {
        Candidate fanotify = new Candidate("fanotify", "fanotify",
                why -> new CgroupWatcher(fs, keeper, config.unlimitedQueue()));
        Candidate bpf = new Candidate("BPF lifecycle programs", "the BPF lifecycle programs",
                why -> new LifecycleWatcher(hub.get(), keeper, hierarchy.id()));
        Candidate sweeps = new Candidate("sweeping", "sweeps every " + config.sweepInterval().toMillis() + " ms",
                this::sweeps);
        return switch (mode) {
            case AUTO -> List.of(fanotify, bpf, sweeps);
            case FANOTIFY, CROSSCHECK -> List.of(fanotify);
            case BPF -> List.of(bpf);
            case SWEEP -> List.of(sweeps);
        };
    }

    private SweepLoop sweeps(String why) {
        return new SweepLoop(keeper, config.sweepInterval(), why == null ? "--cgroup.index-mode=sweep" : why);
    }

    /** Opens the mount: the unified one from {@code --cgroup.root} or mountinfo, a v1 one where discovery found it. */
    void open() throws StartupException {
        try {
            fs = unified() ? CgroupFs.open(config.cgroupRoot()) : CgroupFs.openV1(Path.of(hierarchy.mountPoint()));
        } catch (CgroupFsException e) {
            throw new StartupException(e.getMessage(), unified() && config.cgroupRoot() != null ? 2 : 1, e);
        }
        hierarchy.index().setResolver(new KernelLookup(fs));
        tree = new Sweeper(fs);
        keeper = new IndexKeeper(hierarchy.index(), tree);
        keeper.onGiveUp(this::sweeps); // a lost fanotify fd that cannot be replaced: sweeps, in every mode
    }

    /**
     * Starts the first source of the chain the kernel accepts; the refusals before it are one
     * warning each (for v1 hierarchies at fine level: one line sums them up). Returns the source.
     *
     * @throws StartupException when the last source of the chain is refused too
     */
    IndexSource start(Config.IndexMode mode) throws StartupException {
        List<Candidate> chain = chain(mode);
        String why = null;
        for (int i = 0; ; i++) {
            Candidate link = chain.get(i);
            try {
                IndexSource source = link.open().open(why);
                keeper.start(source); // closes the source when it fails
                return source;
            } catch (IOException e) {
                if (i == chain.size() - 1) {
                    throw new StartupException(mode != Config.IndexMode.AUTO && mode != Config.IndexMode.SWEEP
                            ? "--cgroup.index-mode=" + mode.name().toLowerCase(java.util.Locale.ROOT) + ": "
                                    + e.getMessage()
                            : "cannot index " + fs.mountPoint() + ": " + e.getMessage(), e);
                }
                String warning = link.name() + " refused, falling back to " + chain.get(i + 1).asFallback() + ": "
                        + e.getMessage();
                if (unified()) {
                    LOG.warning(warning);
                } else {
                    LOG.fine("hierarchy " + hierarchy.name() + ": " + warning);
                }
                why = link.name() + " refused: " + e.getMessage();
            }
        }
    }

    /** The source that keeps the index now, or null. */
    IndexSource current() {
        return keeper == null ? null : keeper.current();
    }

    /** Stops the source, closes the mount; the index no longer follows. Idempotent. */
    void stop() {
        if (keeper != null) {
            keeper.close();
            keeper = null;
        } else {
            hierarchy.index().health().notFollowing("stopped");
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
