package io.cgscope.bpf;

import io.cgscope.linux.EventFd;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Poller;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The OOM kill program ({@code --bpf.programs=oom}, {@code oom.bpf.c}): loads its own object,
 * attaches {@code oom_mark} (and, where the kernel has BPF trampolines, {@code oom_enter} and
 * {@code oom_exit}, which make the memcg exact), reads the kills per cgroup id for the metrics,
 * and hands each kill's record to a listener from its own thread ({@code cgscope-oom}), which
 * waits on the ring buffer's epoll fd and an eventfd for shutdown: no periodic wake-up.
 *
 * <p>Apart from the companion on purpose: a kernel that refuses this program (an unknown
 * tracepoint, a verifier limit) leaves the companion's features up, and the other way round.
 * Never fails the start: {@link #programs()} says up or down and why. Thread-safe.
 */
public final class OomKills implements OomKillCounts, ProgramReport, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OomKills.class.getName());
    /** Its {@code --bpf.programs} name and {@code program} label. */
    public static final String PROGRAM = "oom";
    public static final String RESOURCE = "/io/cgscope/bpf/oom.bpf.o";
    /** The kills per victim cgroup id: {@code oom_kills}. */
    public static final String MAP = "oom_kills";
    private static final Feature.Prog MARK = new Feature.Prog("oom_mark", false);
    private static final Feature.Prog ENTER = new Feature.Prog("oom_enter", false);
    private static final Feature.Prog EXIT = new Feature.Prog("oom_exit", false);
    private static final int STAT_LOST = 0;
    private static final int STAT_COUNT_FAILURES = 1;
    /** The records' consumers, by the id passed to the ring buffer as its callback's ctx. */
    private static final Map<Long, OomKills> BY_ID = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();
    private static final MemorySegment SAMPLE_STUB = sampleStub();

    private final long id = IDS.incrementAndGet();
    private final int maxCgroups;
    private final BpfHierarchy hierarchy;
    private final Consumer<OomRecord> listener;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment u32Key = arena.allocate(4, 4);
    private final MemorySegment u64Value = arena.allocate(8, 8);
    private final MapTable table = new MapTable(1, 64);
    private volatile CounterSource.Status status = new CounterSource.Status(false, "not started");
    private volatile boolean exactMemcg;
    private volatile boolean running;
    private final AtomicLong malformed = new AtomicLong();
    private BpfObject obj;
    private Links mark;
    private Links enter;
    private Links exit;
    private PerCpuReader counts;
    private BpfMap stats;
    private MemorySegment ring = MemorySegment.NULL;
    private EventFd wake;
    private Thread thread;

    /**
     * @param maxCgroups entries of the {@code oom_kills} map ({@code --bpf.max-cgroups})
     * @param listener   gets each kill's record on the {@code cgscope-oom} thread; must return soon and not throw
     */
    public OomKills(int maxCgroups, Consumer<OomRecord> listener) {
        this(maxCgroups, BpfHierarchy.unified(), listener);
    }

    /**
     * @param hierarchy whose cgroup a kill counts for and is recorded in (the companion's
     *                  {@code --cgroup.hierarchy}): the ids are that hierarchy's index's
     */
    public OomKills(int maxCgroups, BpfHierarchy hierarchy, Consumer<OomRecord> listener) {
        this.maxCgroups = maxCgroups;
        this.hierarchy = hierarchy;
        this.listener = listener;
    }

    /** Loads, attaches and starts reading. Never fails as a whole: see {@link #programs()}. */
    public synchronized boolean start() {
        LibBpfLog.install();
        try {
            byte[] elf = bundledObject();
            try {
                obj = load(elf, true);
                exactMemcg = true;
            } catch (BpfException withTrampolines) {
                LOG.fine("oom: loading with fentry/fexit on oom_kill_process failed, loading without: "
                        + withTrampolines.getMessage());
                obj = load(elf, false);
            }
            mark = Links.attach(obj, MARK, 0);
            if (exactMemcg) {
                try {
                    enter = Links.attach(obj, ENTER, 0);
                    exit = Links.attach(obj, EXIT, 0);
                } catch (BpfException e) {
                    closeLinks(enter, exit);
                    enter = null;
                    exit = null;
                    exactMemcg = false;
                    LOG.fine("oom: fentry/fexit on oom_kill_process did not attach: " + e.getMessage());
                }
            }
            counts = new PerCpuReader(obj.openMap(MAP), 1, 256);
            stats = obj.openMap("oom_stats");
            startReading(obj.openMap("events"));
            status = new CounterSource.Status(true, "");
            LOG.info("bpf: program oom attached (victims by their cgroup in " + hierarchy.describe() + "; memcg " + (exactMemcg ? "from oom_kill_process's oom_control"
                    : "inferred from the memory cgroups' limits: no fentry on this kernel") + ")");
            return true;
        } catch (BpfException | IOException | RuntimeException e) { // SyscallException is an IOException
            stopAll();
            status = new CounterSource.Status(false, e.getMessage());
            LOG.warning("bpf: program oom is down: " + e.getMessage());
            return false;
        }
    }

    private BpfObject load(byte[] elf, boolean trampolines) throws BpfException {
        BpfObject o = BpfObject.open(elf);
        try {
            o.setMaxEntries(List.of(MAP), maxCgroups);
            o.setAutoload(ENTER.name(), trampolines);
            o.setAutoload(EXIT.name(), trampolines);
            hierarchy.configure(o);
            o.load();
            return o;
        } catch (BpfException | RuntimeException e) {
            o.close();
            throw e;
        }
    }

    private static byte[] bundledObject() throws IOException {
        try (InputStream in = OomKills.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the jar lacks " + RESOURCE + " (build the bpf module first)");
            }
            return in.readAllBytes();
        }
    }

    private void startReading(BpfMap events) throws BpfException, SyscallException {
        ring = LibBpf.ringBufferNew(events.fd(), "events", SAMPLE_STUB, MemorySegment.ofAddress(id));
        int epollFd = LibBpf.ringBufferEpollFd(ring);
        // libbpf owns the epoll fd (ring_buffer__free closes it): this Fd is never closed
        Fd ringFd = new Fd(epollFd, "oom ring buffer epoll");
        wake = new EventFd();
        BY_ID.put(id, this);
        running = true;
        thread = Thread.ofPlatform().name("cgscope-oom").daemon(true).start(() -> run(ringFd));
    }

    private void run(Fd ringFd) {
        try (Arena local = Arena.ofConfined()) {
            Poller poller = new Poller(local, ringFd, wake.fd());
            while (running) {
                int ready = poller.await(-1);
                if ((ready & 2) != 0) {
                    wake.drain();
                }
                if (!running) {
                    return;
                }
                if ((ready & 1) != 0) {
                    int rc = LibBpf.ringBufferConsume(ring);
                    if (rc < 0) {
                        LOG.warning("oom: ring_buffer__consume failed: " + LibBpf.strerror(rc));
                    }
                }
            }
        } catch (Throwable t) {
            if (running) {
                LOG.warning("oom: the ring buffer reader stopped: " + t);
                status = new CounterSource.Status(false, "the ring buffer reader stopped: " + t);
            }
        }
    }

    private static MemorySegment sampleStub() {
        try {
            return LibBpf.upcallStub(MethodHandles.lookup().findStatic(OomKills.class, "sample",
                            MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class)),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@code ring_buffer_sample_fn}: one record, on the reader thread. Never throws (an upcall must not). */
    private static int sample(MemorySegment ctx, MemorySegment data, long size) {
        try {
            OomKills self = BY_ID.get(ctx.address());
            if (self == null) {
                return 0;
            }
            byte[] bytes = data.reinterpret(size).toArray(ValueLayout.JAVA_BYTE);
            OomRecord r;
            try {
                r = OomRecord.parse(bytes, bytes.length);
            } catch (IllegalArgumentException e) {
                if (self.malformed.getAndIncrement() == 0) {
                    LOG.warning("oom: a record could not be read (logged once): " + e.getMessage());
                }
                return 0;
            }
            self.listener.accept(r);
        } catch (Throwable t) {
            // nothing may escape an upcall; a listener's failure loses one record's event, not the count
        }
        return 0;
    }

    /** The kills per victim cgroup id, as the map holds them now (valid until the next read). */
    @Override
    public synchronized MapTable read() throws BpfException {
        table.clear();
        if (counts != null) {
            counts.read(table);
        }
        return table;
    }

    /** Removes a cgroup's count (after the metrics folded it). */
    @Override
    public synchronized void delete(long cgroupId) throws BpfException {
        if (counts != null) {
            counts.delete(cgroupId);
        }
    }

    /** Records the ring buffer had no room for (their kills are counted, their events lost). */
    @Override
    public synchronized long lostRecords() {
        return stat(STAT_LOST);
    }

    /** Records that could not be parsed. */
    public long malformedRecords() {
        return malformed.get();
    }

    /** Whether the memcg of a record comes from the kill's oom_control (fentry), not inferred. */
    public boolean exactMemcg() {
        return exactMemcg;
    }

    @Override
    public boolean up() {
        return status.up();
    }

    private long stat(int index) {
        if (stats == null) {
            return 0;
        }
        u32Key.set(ValueLayout.JAVA_INT, 0, index);
        return LibBpf.mapLookupElem(stats.fd(), u32Key, u64Value) == 0 ? u64Value.get(ValueLayout.JAVA_LONG, 0) : 0;
    }

    @Override
    public Map<String, CounterSource.Status> programs() {
        return Map.of(PROGRAM, status);
    }

    @Override
    public synchronized Map<String, Long> updateFailures() {
        return status.up() ? Map.of(MAP, stat(STAT_COUNT_FAILURES)) : Map.of();
    }

    /** Detaches, stops the reader, unloads. Idempotent. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (status.up()) {
                status = new CounterSource.Status(false, "stopped");
            }
            running = false;
            t = thread;
        }
        if (wake != null) {
            try {
                wake.signal();
            } catch (SyscallException e) {
                // the reader then sees running=false at its next record
            }
        }
        if (t != null) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            stopAll();
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    private void stopAll() {
        running = false;
        BY_ID.remove(id);
        closeLinks(mark, enter, exit);
        mark = enter = exit = null;
        if (!ring.equals(MemorySegment.NULL)) {
            LibBpf.ringBufferFree(ring);
            ring = MemorySegment.NULL;
        }
        if (wake != null) {
            wake.close();
            wake = null;
        }
        if (counts != null) {
            counts.close();
            counts = null;
        }
        stats = null;
        if (obj != null) {
            obj.close();
            obj = null;
        }
        thread = null;
    }

    private static void closeLinks(Links... links) {
        for (Links l : links) {
            if (l != null) {
                l.close();
            }
        }
    }
}
