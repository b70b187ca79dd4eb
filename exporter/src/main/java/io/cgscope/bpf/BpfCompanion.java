package io.cgscope.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Logger;

/**
 * The BPF companion at run time: loads the bundled {@code cgscope.bpf.o}, attaches each selected
 * feature on its own (one that fails is down with its reason; the others work), reads the maps
 * for the metrics, deletes folded cgroups' entries, and detaches everything on {@link #close()}.
 * Thread-safe: reads, deletes and close are serialized.
 *
 * <p>Over 400 lines: the load, the per-feature attach, the reads and close share the one loaded
 * object and its per-feature state under one lock; split, each part would need that lock and state.
 */
public final class BpfCompanion implements CounterSource, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BpfCompanion.class.getName());
    /** The object as packaged by the bpf module. */
    public static final String RESOURCE = "/io/cgscope/bpf/cgscope.bpf.o";
    private static final Path STATS_ENABLED = Path.of("/proc/sys/kernel/bpf_stats_enabled");
    /** Entries per BPF_MAP_LOOKUP_BATCH call: big enough to make calls few, small enough for many CPUs. */
    private static final int BATCH = 1024;

    private final Set<Feature> wanted;
    private final BpfHierarchy hierarchy;
    private final int maxCgroups;
    private final int sampleHz;
    private final Map<Feature, Status> status = new EnumMap<>(Feature.class);
    /** Attached programs by name (the sched_switch program is shared by three features). */
    private final Map<String, Links> links = new LinkedHashMap<>();
    /** The per-cgroup maps of the up features, by map name, and the tables they are read into. */
    private final Map<String, PerCpuReader> readers = new LinkedHashMap<>();
    private final Map<String, MapTable> tables = new LinkedHashMap<>();
    private final Set<Feature> up = java.util.EnumSet.noneOf(Feature.class);
    /**
     * Reads the maps after the first one, each on its own thread, while the scraping thread reads
     * the first: the kernel's batched copy is most of a read (about 0.2 us per entry and map, 2 ms
     * for the counters and 3.5 ms for the histogram at 10k cgroups), and the maps are independent.
     * Created at the first read that has more than one map.
     */
    private ExecutorService readPool;
    private final Arena scratch = Arena.ofShared();
    private final MemorySegment u32Key = scratch.allocate(4, 4);
    private final MemorySegment progInfo = scratch.allocate(ProgInfo.LAYOUT);
    private final MemorySegment infoLen = scratch.allocate(4, 4);
    private BpfObject obj;
    private BpfMap failures;
    private MemorySegment failureValues;
    private int cpus = 1;
    private boolean closed;

    public BpfCompanion(Set<Feature> wanted, int maxCgroups, int sampleHz) {
        this(wanted, maxCgroups, sampleHz, BpfHierarchy.unified());
    }

    /** @param hierarchy whose cgroup of a task its counts go to (--cgroup.hierarchy) */
    public BpfCompanion(Set<Feature> wanted, int maxCgroups, int sampleHz, BpfHierarchy hierarchy) {
        this.hierarchy = hierarchy;
        this.wanted = Collections.unmodifiableSet(wanted.isEmpty() ? Set.of() : java.util.EnumSet.copyOf(wanted));
        this.maxCgroups = maxCgroups;
        this.sampleHz = sampleHz;
        for (Feature f : wanted) {
            status.put(f, new Status(false, "not started"));
        }
    }

    /**
     * Loads and attaches. Never fails as a whole: each feature ends up or down with its reason.
     *
     * @return the features that are up
     */
    public synchronized Set<Feature> start() {
        Set<Feature> up = java.util.EnumSet.noneOf(Feature.class);
        if (wanted.isEmpty()) {
            return up;
        }
        LibBpfLog.install();
        Map<Feature, String> failed = new EnumMap<>(Feature.class);
        try {
            cpus = possibleCpus();
            obj = BpfLoader.load(bundledObject(), wanted, maxCgroups, hierarchy, failed);
            if (obj != null) {
                failures = obj.openMap(BpfMaps.UPDATE_FAILURES);
                failureValues = scratch.allocate(8L * cpus, 8);
            }
        } catch (BpfException | IOException | RuntimeException e) {
            for (Feature f : wanted) {
                failed.putIfAbsent(f, e.getMessage());
            }
            closeObject();
        }
        Set<Feature> loaded = java.util.EnumSet.noneOf(Feature.class);
        for (Feature f : wanted) {
            if (failed.containsKey(f)) {
                down(f, "load: " + failed.get(f));
            } else {
                loaded.add(f);
            }
        }
        Map<String, String> attachFailed = new LinkedHashMap<>();
        for (Feature.Prog p : Feature.programsOf(loaded)) {
            try {
                links.put(p.name(), Links.attach(obj, p, sampleHz));
            } catch (BpfException | RuntimeException e) {
                attachFailed.put(p.name(), e.getMessage());
            }
        }
        for (Feature f : loaded) {
            String reason = null;
            for (Feature.Prog p : f.programs()) {
                if (attachFailed.containsKey(p.name())) {
                    reason = attachFailed.get(p.name());
                    break;
                }
            }
            if (reason != null) {
                down(f, "attach: " + reason);
                continue;
            }
            String map = f.dataMap();
            try {
                if (!readers.containsKey(map)) {
                    readers.put(map, new PerCpuReader(obj.openMap(map), cpus, BATCH));
                    tables.put(map, new MapTable(BpfMaps.words(map), 256));
                }
                status.put(f, new Status(true, ""));
                up.add(f);
            } catch (BpfException | RuntimeException e) {
                down(f, "map: " + e.getMessage());
            }
        }
        this.up.addAll(up);
        // Programs no up feature needs (their feature failed elsewhere) are detached again.
        List<String> needed = Feature.programsOf(up).stream().map(Feature.Prog::name).toList();
        links.entrySet().removeIf(e -> {
            if (!needed.contains(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        if (up.isEmpty()) {
            closeObject();
        }
        return up;
    }

    private void down(Feature f, String reason) {
        status.put(f, new Status(false, reason));
        LOG.warning("bpf: program " + f.label() + " is down: " + reason);
    }

    private static byte[] bundledObject() throws IOException {
        try (InputStream in = BpfCompanion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the jar lacks " + RESOURCE + " (build the bpf module first)");
            }
            return in.readAllBytes();
        }
    }

    private static int possibleCpus() throws BpfException {
        return LibBpf.numPossibleCpus();
    }

    @Override
    public synchronized Map<Feature, Status> status() {
        // EnumMap's copy constructor refuses an empty map that is not an EnumMap (--bpf.programs=).
        return status.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(status));
    }

    @Override
    public synchronized Counters read() throws BpfException {
        if (closed || obj == null) {
            return new Counters(Set.of(), Map.of(), Map.of());
        }
        readAll(tables);
        return new Counters(Collections.unmodifiableSet(up), Collections.unmodifiableMap(tables), readFailures());
    }

    @Override
    public CounterSource.Reader newReader() {
        Map<String, MapTable> own = new LinkedHashMap<>();
        return () -> {
            synchronized (this) {
                if (closed || obj == null) {
                    return new Counters(Set.of(), Map.of(), Map.of());
                }
                for (String map : readers.keySet()) {
                    own.computeIfAbsent(map, m -> new MapTable(BpfMaps.words(m), 256));
                }
                readAll(own);
                return new Counters(Collections.unmodifiableSet(up),
                        Collections.unmodifiableMap(own), readFailures());
            }
        };
    }

    /** Reads every per-cgroup map into its table in {@code tables}, in parallel; returns when all reads ended. */
    private void readAll(Map<String, MapTable> tables) throws BpfException {
        List<Future<?>> others = new ArrayList<>(readers.size());
        PerCpuReader first = null;
        MapTable firstTable = null;
        for (Map.Entry<String, PerCpuReader> e : readers.entrySet()) {
            if (first == null) {
                first = e.getValue();
                firstTable = tables.get(e.getKey());
                continue;
            }
            if (readPool == null) {
                readPool = Executors.newFixedThreadPool(readers.size() - 1,
                        Thread.ofPlatform().name("cgscope-bpf-read-", 0).daemon().factory());
            }
            PerCpuReader r = e.getValue();
            MapTable t = tables.get(e.getKey());
            others.add(readPool.submit(() -> {
                r.read(t);
                return null;
            }));
        }
        BpfException failure = null;
        try {
            if (first != null) {
                first.read(firstTable);
            }
        } catch (BpfException e) {
            failure = e;
        }
        // Always wait for every read: the tables are reused, no read may outlive this scrape.
        for (Future<?> f : others) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof BpfException b) {
                    failure = failure == null ? b : failure;
                } else if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                } else {
                    throw new IllegalStateException("reading a BPF map failed", e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BpfException("interrupted while reading the BPF maps");
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private Map<String, Long> readFailures() throws BpfException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < BpfMaps.FAILURE_INDEX.size(); i++) {
            u32Key.set(ValueLayout.JAVA_INT, 0, i);
            int rc = LibBpf.mapLookupElem(failures.fd(), u32Key, failureValues);
            if (rc < 0) {
                throw LibBpf.failure("bpf_map_lookup_elem(update_failures)", rc);
            }
            long sum = 0;
            for (int c = 0; c < cpus; c++) {
                sum += failureValues.getAtIndex(ValueLayout.JAVA_LONG, c);
            }
            out.put(BpfMaps.FAILURE_INDEX.get(i), sum);
        }
        return out;
    }

    @Override
    public synchronized void delete(long cgroupId) throws BpfException {
        if (closed) {
            return;
        }
        for (PerCpuReader r : readers.values()) {
            r.delete(cgroupId);
        }
    }

    /**
     * Writes a whole value straight into a per-cgroup map, on CPU 0 (benchmarks and tests: a map
     * filled without real cgroups).
     */
    public synchronized void put(String map, long cgroupId, long... words) throws BpfException {
        PerCpuReader r = readers.get(map);
        if (r == null) {
            throw new BpfException("no up feature fills the map " + map);
        }
        r.put(cgroupId, words);
    }

    @Override
    public synchronized Map<String, RunStats> runStats() {
        if (closed || obj == null || !statsEnabled()) {
            return Map.of();
        }
        Map<String, RunStats> out = new LinkedHashMap<>();
        for (String program : links.keySet()) {
            out.put(program, programStats(program));
        }
        return out;
    }

    /**
     * One BPF program's run time and count ({@code bpf_obj_get_info_by_fd}); zeros when it is not
     * loaded. The kernel counts only while {@code kernel.bpf_stats_enabled} is 1.
     */
    public synchronized RunStats programStats(String program) {
        if (closed || obj == null) {
            return new RunStats(0, 0);
        }
        int fd;
        try {
            fd = obj.programFd(program);
        } catch (BpfException e) {
            return new RunStats(0, 0);
        }
        progInfo.fill((byte) 0);
        infoLen.set(ValueLayout.JAVA_INT, 0, ProgInfo.SIZE);
        if (LibBpf.objGetInfoByFd(fd, progInfo, infoLen) != 0) {
            return new RunStats(0, 0);
        }
        return new RunStats(ProgInfo.runTimeNs(progInfo), ProgInfo.runCount(progInfo));
    }

    /** Whether {@code kernel.bpf_stats_enabled} is 1 (the kernel then times every program run). */
    static boolean statsEnabled() {
        try {
            return Files.readString(STATS_ENABLED).strip().equals("1");
        } catch (IOException e) {
            return false;
        }
    }

    /** Whose cgroup of a task the counters are keyed by. */
    public BpfHierarchy hierarchy() {
        return hierarchy;
    }

    @Override
    public int maxEntries() {
        return maxCgroups;
    }

    /** The sampling frequency the perf events were opened with. */
    public int sampleFrequency() {
        return sampleHz;
    }

    /** Whether map reads use BPF_MAP_LOOKUP_BATCH (false after the kernel refused it). */
    public synchronized boolean batchedReads() {
        for (PerCpuReader r : readers.values()) {
            if (!r.batched()) {
                return false;
            }
        }
        return true;
    }

    /** Detaches every program (destroys the links) and unloads the object. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Links l : links.values()) {
            l.close();
        }
        links.clear();
        for (Feature f : up) {
            status.put(f, new Status(false, "stopped"));
        }
        up.clear();
        if (readPool != null) {
            readPool.shutdownNow();
        }
        for (PerCpuReader r : readers.values()) {
            r.close();
        }
        readers.clear();
        closeObject();
        if (scratch.scope().isAlive()) {
            scratch.close();
        }
    }

    private void closeObject() {
        if (obj != null) {
            obj.close();
            obj = null;
        }
    }
}
