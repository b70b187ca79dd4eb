package io.cgscope.workload;

import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.ChangeLog;
import io.cgscope.index.IndexChange;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads each container's bundle as soon as the index learns the container's cgroup: a runtime
 * removes the bundle when the container is deleted, so a container that lives shorter than a
 * scrape interval would otherwise keep no name. Where the bundle gives no names (unreadable after
 * {@code --run-as}), asks kubelet's log files for them ({@link KubeletLogs}) and lists their
 * directories on this thread, every turn while a name is wanted. One thread of its own follows the index's change
 * history (signalled by the index's writer, which never waits for it), looks only at the names of
 * created cgroups ({@link PathClassifier#containerIdOfName}, for names long enough to hold an id: no
 * path built, most names not even decoded),
 * and reads the bundles of the containers among them. When it falls behind the history, the
 * bundles it missed are read by whoever asks first (a scrape, the API). Now and then it forgets
 * bundles whose cgroups all left the index.
 *
 * <p>{@link #start} also reads the bundles of every live container before it returns: cgscope
 * starts its components before {@code --run-as} drops its privileges, and bundle directories are
 * readable by root alone (containerd makes each 0700). It lists kubelet's log directories once
 * then too, so the first scrape finds the running containers named.
 */
public final class BundleTracker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BundleTracker.class.getName());
    /** Changes read per turn. */
    private static final int BATCH = 4096;
    /** Longest sleep without a signal (the prune is timed by it too). */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * Shortest time between two turns, signals or not: under churn the index signals after every
     * batch it applies (up to a thousand a second), and a wake-up costs more than a turn's work.
     * A container whose cgroup lives shorter than this may lose its bundle before it is read.
     */
    private static final long MIN_TURN_MILLIS = 100;
    /** How often the tracker looks whether a runtime or log directory exists (a runtime started later). */
    private static final long DIRS_CHECK_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final CgroupIndex index;
    private final WorkloadResolver resolver;
    private final long pruneIntervalNanos;
    private volatile boolean stop;
    private boolean anyDir;
    private long dirsCheckedAt;
    private Thread thread;
    private AutoCloseable subscription;

    public BundleTracker(CgroupIndex index, WorkloadResolver resolver, long pruneIntervalNanos) {
        this.index = index;
        this.resolver = resolver;
        this.pruneIntervalNanos = pruneIntervalNanos;
    }

    /** Reads the bundles of the live containers, then follows the index's changes on a thread of its own. */
    public void start() {
        ChangeLog changes = index.changes();
        long position = changes.lastSeq(); // before the pass: a container made during it is read twice at worst
        int read = 0;
        if (resolver.bundles().enabled() || resolver.logs().enabled()) {
            for (Cgroup c : index.list("", CgroupIndex.StateFilter.LIVE, Integer.MAX_VALUE).cgroups()) {
                String name = leaf(c.path());
                String id = name == null ? null : PathClassifier.containerIdOfName(name);
                if (id != null) {
                    resolver.readEarly(id, c.id(), ignored -> c.path());
                    read++;
                }
            }
        }
        resolver.logs().refresh(); // the running containers' log names, before the first scrape
        LOG.fine("workload: read the bundles of " + read + " live containers");
        long start = position;
        thread = Thread.ofPlatform().name("cgscope-workload").daemon().unstarted(() -> run(start));
        subscription = changes.subscribe(this::wakeUp);
        resolver.logs().onWant(this::wakeUp);
        thread.start();
    }

    /** On the index's writer thread: returns at once. */
    private void wakeUp() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void run(long position) {
        long nextPrune = System.nanoTime() + pruneIntervalNanos;
        while (!stop) {
            try {
                position = follow(position);
                resolver.logs().refresh();
                if (System.nanoTime() - nextPrune >= 0) {
                    resolver.prune(id -> index.byId(id).isPresent());
                    nextPrune = System.nanoTime() + pruneIntervalNanos;
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "workload: bundle tracker: " + e, e); // keep going: lazily read anyway
            }
            try {
                Thread.sleep(MIN_TURN_MILLIS); // signals meanwhile leave a permit: the park below returns at once
            } catch (InterruptedException e) {
                return;
            }
            if (!resolver.logs().wanted()) {
                LockSupport.parkNanos(this, IDLE_NANOS); // while a log name is wanted: a turn every MIN_TURN_MILLIS
            }
        }
    }

    /**
     * Handles the changes after {@code position}; returns the new position. Without names to read
     * (no runtime or log directory configured, or none exists on this host: no container runtime,
     * no kubelet) it skips them: following the history costs about 0.1 us per change under full churn.
     */
    private long follow(long position) {
        if (!anySourceDir()) {
            return index.changes().lastSeq();
        }
        while (!stop) {
            List<IndexChange> batch = index.changes().after(position, BATCH);
            if (batch == null) {
                return index.changes().lastSeq(); // fell behind: the missed bundles are read when asked for
            }
            if (batch.isEmpty()) {
                return position;
            }
            for (IndexChange c : batch) {
                // a container's cgroup name holds its 64-digit id: shorter names are not decoded
                if (c.type() == IndexChange.Type.CREATE && c.nameLength() >= 64) {
                    String id = PathClassifier.containerIdOfName(c.name());
                    if (id != null) {
                        resolver.readEarly(id, c.cgroup().id(), index::pathOf);
                    }
                }
            }
            position = batch.getLast().seq();
        }
        return position;
    }

    private boolean anySourceDir() {
        long now = System.nanoTime();
        if (dirsCheckedAt == 0 || now - dirsCheckedAt >= DIRS_CHECK_NANOS) {
            dirsCheckedAt = now;
            anyDir = resolver.bundles().dirs().stream().anyMatch(java.nio.file.Files::isDirectory)
                    || resolver.logs().dirs().stream().anyMatch(java.nio.file.Files::isDirectory);
        }
        return anyDir;
    }

    private static String leaf(String path) {
        if (path == null) {
            return null;
        }
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    @Override
    public void close() {
        stop = true;
        if (subscription != null) {
            try {
                subscription.close();
            } catch (Exception ignored) {
                // removing from a list does not fail
            }
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
