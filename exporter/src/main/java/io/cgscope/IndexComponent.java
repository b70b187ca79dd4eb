package io.cgscope;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.CgroupFsException;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.cgroupfs.SweepLoop;
import io.cgscope.config.Config;
import io.cgscope.bpf.BpfException;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.lifecycle.CrossCheck;
import io.cgscope.lifecycle.CrossCheckReader;
import io.cgscope.lifecycle.LifecycleWatcher;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Starts the cgroup index in the mode asked for: fanotify events ({@code fanotify}), the BPF
 * lifecycle programs ({@code bpf}), periodic sweeps ({@code sweep}), or the first of them the
 * kernel allows ({@code auto}: kernels before 6.6 give kernfs no fsid, so the fanotify mark is
 * refused there; BPF needs BTF and CAP_BPF), each fallback with one warning saying why. In
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
    private volatile CgroupWatcher watcher;
    private volatile LifecycleWatcher lifecycle;
    private volatile SweepLoop sweeps;
    private final CrossCheck crossCheck;
    private CrossCheckReader crossReader;

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

    /** The fanotify watcher, or null in sweep mode. */
    public CgroupWatcher watcher() {
        return watcher;
    }

    /** The BPF lifecycle source, or null unless in bpf mode. */
    public LifecycleWatcher lifecycle() {
        return lifecycle;
    }

    /** The sweep loop, or null unless in sweep mode. */
    public SweepLoop sweeps() {
        return sweeps;
    }

    @Override
    public void start() throws StartupException {
        try {
            fs = CgroupFs.open(config.cgroupRoot());
        } catch (CgroupFsException e) {
            throw new StartupException(e.getMessage(), config.cgroupRoot() != null ? 2 : 1, e);
        }
        index.setResolver(new KernelLookup(fs));
        long t0 = System.nanoTime();
        Config.IndexMode mode = config.indexMode();
        String refused = null;
        try {
            if (mode == Config.IndexMode.CROSSCHECK) {
                startCrossCheck(t0);
                return;
            }
            if (mode == Config.IndexMode.AUTO || mode == Config.IndexMode.FANOTIFY) {
                try {
                    startFanotify(t0);
                    return;
                } catch (SyscallException e) {
                    closeWatcher();
                    if (mode == Config.IndexMode.FANOTIFY) {
                        throw new StartupException("--cgroup.index-mode=fanotify: " + e.getMessage(), e);
                    }
                    refused = "fanotify refused: " + e.getMessage();
                    LOG.warning(refused + "; trying the BPF lifecycle programs");
                }
            }
            if (mode == Config.IndexMode.AUTO || mode == Config.IndexMode.BPF) {
                try {
                    startBpf(t0);
                    return;
                } catch (BpfException e) {
                    closeLifecycle();
                    if (mode == Config.IndexMode.BPF) {
                        throw new StartupException("--cgroup.index-mode=bpf: " + e.getMessage(), e);
                    }
                    refused = (refused == null ? "" : refused + "; ") + "BPF lifecycle programs refused: "
                            + e.getMessage();
                    LOG.warning("BPF lifecycle programs refused, falling back to sweeps every "
                            + config.sweepInterval().toMillis() + " ms: " + e.getMessage());
                }
            }
            sweeps = new SweepLoop(fs, index, config.sweepInterval());
            sweeps.start(refused != null ? refused : "--cgroup.index-mode=sweep");
            LOG.info("index: cgroup root " + fs.mountPoint() + ", mode sweep, " + index.liveCount()
                    + " cgroups in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } catch (SyscallException e) {
            throw new StartupException("cannot index " + fs.mountPoint() + ": " + e.getMessage(), e);
        }
    }

    private void startFanotify(long t0) throws SyscallException {
        watcher = new CgroupWatcher(fs, index, config.unlimitedQueue());
        watcher.onFdLost(this::fallBackToSweeps);
        watcher.start();
        LOG.info("index: cgroup root " + fs.mountPoint() + " (fsid " + fs.fsidText() + "), mode fanotify"
                + (watcher.unlimitedQueue() ? " with FAN_UNLIMITED_QUEUE" : " with the bounded queue")
                + ", " + index.liveCount() + " cgroups in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /**
     * BPF attached first, then fanotify (which keeps the index), then the fence: a cgroup made
     * and removed at the root once both see everything, whose id starts the comparison.
     */
    private void startCrossCheck(long t0) throws StartupException, SyscallException {
        try {
            crossReader = new CrossCheckReader(crossCheck, config.bpfRingBytes());
        } catch (BpfException e) {
            throw new StartupException("--cgroup.index-mode=crosscheck: " + e.getMessage(), e);
        }
        index.observeEventIds(id -> crossCheck.seen(CrossCheck.Side.FANOTIFY, id));
        try {
            startFanotify(t0);
        } catch (SyscallException e) {
            throw new StartupException("--cgroup.index-mode=crosscheck: " + e.getMessage(), e);
        }
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

    private void startBpf(long t0) throws BpfException, SyscallException {
        lifecycle = new LifecycleWatcher(fs, index, config.bpfRingBytes());
        lifecycle.start();
        LOG.info("index: cgroup root " + fs.mountPoint() + ", mode bpf (cgroup_mkdir/cgroup_rmdir tracepoints, ring "
                + config.bpfRingBytes() / 1024 + " KiB), " + index.liveCount() + " cgroups in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /** Runs on the watcher's thread as it ends: the sweeps take over as the index's writer. */
    private void fallBackToSweeps(String reason) {
        index.stats().degraded.set(reason);
        SweepLoop loop = new SweepLoop(fs, index, config.sweepInterval());
        try {
            loop.start(reason);
            sweeps = loop;
        } catch (SyscallException e) {
            index.stats().notFollowing.set(reason + "; sweeping failed too: " + e.getMessage());
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private void closeWatcher() {
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }

    private void closeLifecycle() {
        if (lifecycle != null) {
            lifecycle.close();
            lifecycle = null;
        }
    }

    @Override
    public void stop() {
        if (crossReader != null) {
            crossReader.close();
            crossReader = null;
        }
        closeWatcher();
        closeLifecycle();
        if (sweeps != null) {
            sweeps.close();
            sweeps = null;
        }
        if (fs != null) {
            fs.close();
            fs = null;
        }
        index.stats().notFollowing.set("stopped");
    }
}
