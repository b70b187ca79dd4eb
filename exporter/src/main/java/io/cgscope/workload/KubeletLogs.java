package io.cgscope.workload;

import io.cgscope.workload.KubeletLogNames.ContainerLink;
import io.cgscope.workload.KubeletLogNames.PodDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;

/**
 * Pods' and containers' names from kubelet's log directories ({@code --workload.pod-logs-dir},
 * {@code --workload.container-logs-dir}; names parsed by {@link KubeletLogNames}): the source of
 * names that needs no privilege, for the containers whose bundle cannot be read (started after
 * {@code --run-as}; containerd makes each bundle directory 0700).
 *
 * <p>Lookups ({@link #container}, {@link #pod}) read memory only, so any thread may ask, an event
 * loop included: a name not known yet is <em>wanted</em>, and the bundle tracker's thread lists
 * the directories ({@link #refresh}, every turn while something is wanted; a directory whose
 * modification time has not moved since a listing is not listed again). A pod's directory exists
 * before its sandbox's cgroup, but a container's symlink only a moment after its cgroup: each
 * wanted name is looked for {@link #WAIT_NANOS}, and {@link #awaiting} tells the metrics to hold a
 * new container's first export meanwhile. A container that never gets a symlink (a sandbox, or no
 * log file) is then counted as {@code missing}. Names found are kept while a cgroup that asked for
 * them is in the index, as bundles are. Thread-safe; {@link #refresh} and {@link #prune} from one
 * thread.
 */
public final class KubeletLogs {
    /**
     * How long a wanted name is looked for. Kubelet makes a container's symlink right after the
     * runtime's StartContainer returns, typically milliseconds after the cgroup appeared; 5 s covers
     * a loaded node and bounds how long a container's first export is held.
     */
    public static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Names asked for without a cgroup (a series' ancestor) are kept this long. */
    static final long UNOWNED_GRACE_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** Why a wanted name was not found, or a file name that was no kubelet's; {@code reason} label values. */
    public enum Failure {
        /** A container (or pod) asked for had no symlink (directory) within {@link #WAIT_NANOS}: a sandbox, or no log file. */
        MISSING("missing"),
        /** The directory could not be listed (permissions, I/O) while a name was wanted. */
        UNREADABLE("unreadable"),
        /** A file name in the directories that is not kubelet's (counted once while it stays). */
        MALFORMED("malformed"),
        /** A symlink name kubelet cut at 255 bytes, its container id lost (counted once while it stays). */
        TRUNCATED("truncated");

        private final String label;

        Failure(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Names found: a pod's (container null), or a container's (its pod's too). */
    public record Names(String namespace, String pod, String container) {
    }

    /** One container's or pod's names, or that they are wanted still, and the cgroups that asked. */
    private static final class Entry {
        volatile Names names;
        volatile long wantedSince;
        volatile boolean gaveUp;
        final CgroupOwners owners;

        Entry(Names names, long now) {
            this.names = names;
            this.wantedSince = now;
            this.owners = new CgroupOwners(now);
        }

        boolean waiting(long now) {
            return names == null && !gaveUp && now - wantedSince < WAIT_NANOS;
        }
    }

    private final KubeletLogDir<PodDir> pods;
    private final KubeletLogDir<ContainerLink> containers;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> byContainer = new ConcurrentHashMap<>();
    private final Map<String, Entry> byPod = new ConcurrentHashMap<>();
    private final Map<Failure, LongAdder> failures = new EnumMap<>(Failure.class);
    private final LongAdder listings = new LongAdder();
    private volatile boolean wanted;
    private volatile Runnable onWant = () -> {
    };

    /**
     * @param podsDir       kubelet's pod log directory ({@code /var/log/pods}), or null
     * @param containersDir its container log symlinks ({@code /var/log/containers}), or null
     */
    public KubeletLogs(Path podsDir, Path containersDir) {
        this(podsDir, containersDir, System::nanoTime);
    }

    /** Test seam: the clock given (the waits are timed by it). */
    public KubeletLogs(Path podsDir, Path containersDir, LongSupplier nanoTime) {
        this.pods = podsDir == null ? null
                : new KubeletLogDir<>(podsDir, KubeletLogNames::podDir, PodDir::uid, this::count);
        this.containers = containersDir == null ? null
                : new KubeletLogDir<>(containersDir, KubeletLogNames::containerLink, ContainerLink::containerId,
                this::count);
        this.nanoTime = nanoTime;
        for (Failure f : Failure.values()) {
            failures.put(f, new LongAdder());
        }
    }

    /** No directories: never looks for anything. */
    public static KubeletLogs none() {
        return new KubeletLogs(null, null);
    }

    /** Whether any directory is configured. */
    public boolean enabled() {
        return pods != null || containers != null;
    }

    /** The directories, pods' then containers', those configured. */
    public List<Path> dirs() {
        List<Path> out = new ArrayList<>(2);
        if (pods != null) {
            out.add(pods.path());
        }
        if (containers != null) {
            out.add(containers.path());
        }
        return out;
    }

    /** Run when a name becomes wanted (the tracker wakes up); returns at once. */
    public void onWant(Runnable r) {
        onWant = r;
    }

    /**
     * A pod's container's names: its symlink's (namespace, pod, container), else its pod's
     * directory's (namespace, pod), else null. What is not known yet is wanted from now on (and a
     * new container re-wants its pod's directory, which the runtime's sandbox always follows).
     */
    public Names container(String containerId, String podUid, long cgroupId) {
        if (!enabled() || !BundleReader.isId(containerId)) {
            return null;
        }
        Names c = null;
        if (containers != null) {
            Entry e = byContainer.get(containerId);
            boolean fresh = false;
            if (e == null) {
                Entry made = new Entry(linkNames(containers.found().get(containerId)), nanoTime.getAsLong());
                e = byContainer.putIfAbsent(containerId, made);
                fresh = e == null;
                e = fresh ? made : e;
            }
            e.owners.add(cgroupId);
            c = named(e, containers.found().get(containerId), KubeletLogs::linkNames);
            if (fresh && c == null) {
                want();
            }
            if (fresh && podUid != null) {
                rewantPod(podUid);
            }
        }
        if (c != null && c.container() != null) {
            return c;
        }
        return pod(podUid, cgroupId);
    }

    /** A pod's names (container null), from its log directory's name; null while not known (then wanted). */
    public Names pod(String podUid, long cgroupId) {
        if (pods == null || podUid == null || PathClassifier.podUid(podUid, '-') == null) {
            return null;
        }
        Entry e = byPod.get(podUid);
        if (e == null) {
            Entry made = new Entry(dirNames(pods.found().get(podUid)), nanoTime.getAsLong());
            e = byPod.putIfAbsent(podUid, made);
            if (e == null) {
                e = made;
                if (made.names == null) {
                    want();
                }
            }
        }
        e.owners.add(cgroupId);
        return named(e, pods.found().get(podUid), KubeletLogs::dirNames);
    }

    /**
     * Whether a pod's container (or its pod) is still looked for: its names were asked for less
     * than {@link #WAIT_NANOS} ago and not found yet, and its directory was not found missing. A
     * container's first export is held meanwhile.
     */
    public boolean awaiting(String containerId, String podUid) {
        long now = nanoTime.getAsLong();
        Entry c = containerId == null ? null : byContainer.get(containerId);
        if (c != null && c.waiting(now) && !absent(containers)) {
            return true;
        }
        Entry p = podUid == null ? null : byPod.get(podUid);
        return p != null && p.waiting(now) && !absent(pods);
    }

    /** A directory found missing at its last look (no kubelet here, or not mounted): nothing to wait for. */
    private static boolean absent(KubeletLogDir<?> dir) {
        return dir == null || dir.failed() == Failure.MISSING;
    }

    /** A new container of a pod whose directory was not found: look for it again (the sandbox follows the directory). */
    private void rewantPod(String podUid) {
        if (pods == null) {
            return;
        }
        Entry p = byPod.get(podUid);
        if (p != null && p.names == null && p.gaveUp) {
            p.wantedSince = nanoTime.getAsLong();
            p.gaveUp = false;
            want();
        }
    }

    private void want() {
        wanted = true;
        onWant.run();
    }

    private static <T> Names named(Entry e, T listed, Function<T, Names> names) {
        Names n = e.names;
        if (n == null && listed != null) {
            n = names.apply(listed);
            e.names = n; // the same names whoever sets them first
        }
        return n;
    }

    private static Names linkNames(ContainerLink l) {
        return l == null ? null : new Names(l.namespace(), l.pod(), l.container());
    }

    private static Names dirNames(PodDir d) {
        return d == null ? null : new Names(d.namespace(), d.pod(), null);
    }

    /** Whether a name is wanted (the tracker should call {@link #refresh} soon). */
    public boolean wanted() {
        return wanted;
    }

    /**
     * Lists the directories whose names are wanted (unless unchanged since their last listing),
     * names the wanted entries, and gives up on those wanted longer than {@link #WAIT_NANOS}. On
     * the tracker's thread; never throws.
     */
    public void refresh() {
        if (!wanted) {
            return;
        }
        wanted = false; // before the pass: a want made during it stays wanted
        long now = nanoTime.getAsLong();
        boolean more = refresh(containers, byContainer, KubeletLogs::linkNames, now);
        more |= refresh(pods, byPod, KubeletLogs::dirNames, now);
        if (more) {
            wanted = true;
        }
    }

    private <T> boolean refresh(KubeletLogDir<T> dir, Map<String, Entry> entries, Function<T, Names> names, long now) {
        if (dir == null) {
            return false;
        }
        boolean pending = false;
        boolean waiting = false;
        for (Entry e : entries.values()) {
            if (e.names == null && !e.gaveUp) {
                pending = true;
                if (e.waiting(now)) {
                    waiting = true;
                    break;
                }
            }
        }
        if (!pending) {
            return false;
        }
        if (waiting && dir.list()) {
            listings.increment();
        }
        boolean more = false;
        for (Map.Entry<String, Entry> m : entries.entrySet()) {
            Entry e = m.getValue();
            if (e.names != null || e.gaveUp || named(e, dir.found().get(m.getKey()), names) != null) {
                continue;
            }
            if (e.waiting(now)) {
                more = true;
            } else {
                e.gaveUp = true;
                count(dir.failed() == Failure.UNREADABLE ? Failure.UNREADABLE : Failure.MISSING);
            }
        }
        return more;
    }

    private void count(Failure f) {
        failures.get(f).increment();
    }

    /** Forgets names whose cgroups all left the index. Call now and then from one thread. */
    public void prune(LongPredicate known) {
        long now = nanoTime.getAsLong();
        byContainer.values().removeIf(e -> !e.waiting(now) && e.owners.prune(known, now, UNOWNED_GRACE_NANOS));
        byPod.values().removeIf(e -> !e.waiting(now) && e.owners.prune(known, now, UNOWNED_GRACE_NANOS));
    }

    /** Containers and pods whose names are kept (found, or given up on). */
    public int size() {
        return byContainer.size() + byPod.size();
    }

    /** Directory listings done. */
    public long listings() {
        return listings.sum();
    }

    /** Failures by reason (every reason, 0 included). */
    public Map<Failure, Long> failures() {
        Map<Failure, Long> out = new EnumMap<>(Failure.class);
        failures.forEach((f, n) -> out.put(f, n.sum()));
        return out;
    }
}
