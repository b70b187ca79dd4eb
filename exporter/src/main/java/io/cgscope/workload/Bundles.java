package io.cgscope.workload;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The bundles read, by container id: each container's bundle is read once, the first time one of
 * its cgroups is asked for (the bundle tracker asks when the index learns the cgroup; a scrape or an
 * API request asks when it was faster), and kept until every cgroup that asked for it has left the
 * index (its retention ended). A bundle that is missing, unreadable or malformed is remembered as
 * such, never retried, and counted by reason; the workload then keeps what its path gave. Also the
 * pods' names, learned from any bundle of the pod, for the pod's own cgroup. Thread-safe.
 */
public final class Bundles {
    private static final Logger LOG = Logger.getLogger(Bundles.class.getName());
    /** A bundle asked for only without a cgroup id (a series' ancestor) is kept this long. */
    static final long UNOWNED_GRACE_NANOS = 60_000_000_000L;

    /** One container's bundle, or why there is none, and the cgroups that asked for it. */
    private static final class Entry {
        final BundleInfo info;
        final CgroupOwners owners;

        Entry(BundleInfo info, long readAtNanos) {
            this.info = info;
            this.owners = new CgroupOwners(readAtNanos);
        }
    }

    /** A pod's names. */
    public record PodNames(String namespace, String name) {
    }

    private final BundleReader reader;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> byContainer = new ConcurrentHashMap<>();
    private final Map<String, PodNames> pods = new ConcurrentHashMap<>();
    private final Map<BundleReader.Failure, LongAdder> failures = new EnumMap<>(BundleReader.Failure.class);
    private final LongAdder reads = new LongAdder();
    private volatile boolean warned;

    /** {@code reader} null: no runtime directories, no bundles read (and none counted as errors). */
    public Bundles(BundleReader reader) {
        this(reader, System::nanoTime);
    }

    Bundles(BundleReader reader, LongSupplier nanoTime) {
        this.reader = reader;
        this.nanoTime = nanoTime;
        for (BundleReader.Failure f : BundleReader.Failure.values()) {
            failures.put(f, new LongAdder());
        }
    }

    /**
     * The bundle of a container, read now if it never was; null when it is missing, unreadable or
     * malformed (or no runtime directory is configured).
     *
     * @param cgroupId the cgroup asking (0: none; then the entry is kept {@link #UNOWNED_GRACE_NANOS})
     */
    public BundleInfo get(String containerId, long cgroupId) {
        if (reader == null || !BundleReader.isId(containerId)) {
            return null; // ids come from the classifier: anything else is no container's
        }
        Entry e = byContainer.get(containerId);
        if (e == null) {
            e = byContainer.computeIfAbsent(containerId, this::read); // read once, however many ask at once
        }
        e.owners.add(cgroupId);
        return e.info;
    }

    private Entry read(String containerId) {
        reads.increment();
        BundleReader.Result r = reader.read(containerId);
        if (r.failure() != null) {
            failures.get(r.failure()).increment();
            if (r.failure() != BundleReader.Failure.MISSING && !warned) {
                warned = true; // once: the counter tells how often
                LOG.warning("workload: bundle of container " + containerId + " " + r.failure().label() + " ("
                        + r.detail() + "); its workload keeps what its cgroup path says; further bundle errors are"
                        + " counted in cgscope_workload_bundle_errors_total");
            }
            return new Entry(null, nanoTime.getAsLong());
        }
        BundleInfo info = r.info();
        if (info.podUid() != null && info.namespace() != null && info.pod() != null) {
            pods.putIfAbsent(info.podUid(), new PodNames(info.namespace(), info.pod()));
        }
        return new Entry(info, nanoTime.getAsLong());
    }

    /** Whether asking for this container's bundle would read a file (never read yet, and reading is on). */
    public boolean unread(String containerId) {
        return reader != null && BundleReader.isId(containerId) && !byContainer.containsKey(containerId);
    }

    /** The names of a pod, from any bundle of it read so far, or null. */
    public PodNames podNames(String podUid) {
        return podUid == null ? null : pods.get(podUid);
    }

    /**
     * Forgets the bundles whose cgroups have all left the index ({@code known} false for each), and
     * pods no kept bundle names. Call now and then from one thread.
     */
    public void prune(LongPredicate known) {
        long now = nanoTime.getAsLong();
        List<String> gone = new ArrayList<>();
        Set<String> podsKept = new HashSet<>();
        byContainer.forEach((id, e) -> {
            if (e.owners.prune(known, now, UNOWNED_GRACE_NANOS)) {
                gone.add(id);
            } else if (e.info != null && e.info.podUid() != null) {
                podsKept.add(e.info.podUid());
            }
        });
        gone.forEach(byContainer::remove);
        pods.keySet().retainAll(podsKept);
    }

    /** Bundles kept (read, or remembered as failed). */
    public int size() {
        return byContainer.size();
    }

    /** Bundle reads attempted. */
    public long reads() {
        return reads.sum();
    }

    /** Failed reads by reason (every reason, 0 included). */
    public Map<BundleReader.Failure, Long> failures() {
        Map<BundleReader.Failure, Long> out = new EnumMap<>(BundleReader.Failure.class);
        failures.forEach((f, n) -> out.put(f, n.sum()));
        return out;
    }

    /** The runtime directories read (empty when none). */
    public java.util.List<java.nio.file.Path> dirs() {
        return reader == null ? java.util.List.of() : reader.dirs();
    }

    /** Whether bundles are read at all (some runtime directory is configured). */
    public boolean enabled() {
        return reader != null;
    }
}
