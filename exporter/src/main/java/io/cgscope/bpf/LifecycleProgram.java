package io.cgscope.bpf;

import io.cgscope.linux.Fd;
import io.cgscope.linux.MappedRegion;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * The cgroup lifecycle programs ({@code lifecycle.bpf.c}) at run time: loaded from the jar and
 * attached to {@code cgroup_mkdir} and {@code cgroup_rmdir} of every hierarchy, their ring buffer
 * mapped into this process, and the count of records the ring had no room for. One owner thread
 * drains it; {@link #close()} detaches and unloads.
 */
public final class LifecycleProgram implements AutoCloseable {
    /** The object as packaged by the bpf module. */
    public static final String RESOURCE = "/io/cgscope/bpf/lifecycle.bpf.o";
    /** The ring's default size: about 1.4 s of the fastest churn measured here (60,000 records/s of about 48 bytes). */
    public static final int DEFAULT_RING_BYTES = 4 << 20;
    private static final String RING = "events";
    private static final String BSS = ".bss";
    /** {@code lost}, the only variable in .bss: at offset 0. */
    private static final long LOST_OFFSET = 0;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final List<Feature.Prog> PROGRAMS = List.of(new Feature.Prog("on_mkdir", false),
            new Feature.Prog("on_rmdir", false));

    private final BpfObject obj;
    private final List<Links> links;
    private final BpfRing ring;
    private final Fd ringFd;
    private final MappedRegion bssRegion;
    private final MemorySegment bss;
    private final LifecycleRecords records = new LifecycleRecords();
    private final int ringBytes;
    private boolean closed;

    private LifecycleProgram(BpfObject obj, List<Links> links, BpfRing ring, Fd ringFd, MappedRegion bss,
                             int ringBytes) {
        this.obj = obj;
        this.links = links;
        this.ring = ring;
        this.ringFd = ringFd;
        this.bssRegion = bss;
        this.bss = bss.segment();
        this.ringBytes = ringBytes;
    }

    /**
     * Loads, maps and attaches: records flow into the ring from the moment this returns.
     *
     * @param ringBytes the ring's size, a power of 2 of pages
     * @throws BpfException when the kernel refuses (no BTF, no {@code tp_btf}, no ring buffer: before
     *                      5.8), with libbpf's reason
     */
    public static LifecycleProgram start(int ringBytes) throws BpfException {
        LibBpfLog.install();
        BpfObject obj = BpfObject.open(bundledObject());
        List<Links> attached = new java.util.ArrayList<>();
        BpfRing ring = null;
        MappedRegion bss = null;
        try {
            obj.setMaxEntries(List.of(RING), ringBytes);
            obj.load();
            BpfMap ringMap = obj.openMap(RING);
            // The program's variables, mapped from the kernel's map: libbpf 1.1 maps .bss into the
            // process only for skeletons (bpf_map__initial_value then still shows the initial image).
            bss = MappedRegion.map(obj.openMap(BSS).fd(), 0, MappedRegion.pageSize(), false, "lifecycle .bss");
            ring = BpfRing.map(ringMap);
            for (Feature.Prog p : PROGRAMS) {
                attached.add(Links.attach(obj, p, 0));
            }
            // The map's fd belongs to the object: this Fd is only polled, and never closed by us.
            return new LifecycleProgram(obj, List.copyOf(attached), ring, new Fd(ringMap.fd(), "ring buffer"), bss,
                    ringBytes);
        } catch (SyscallException e) {
            release(attached, ring, bss, obj);
            throw new BpfException(e.getMessage(), e);
        } catch (BpfException | RuntimeException e) {
            release(attached, ring, bss, obj);
            throw e;
        }
    }

    private static void release(List<Links> attached, BpfRing ring, MappedRegion bss, BpfObject obj) {
        attached.forEach(Links::close);
        if (ring != null) {
            ring.close();
        }
        if (bss != null) {
            bss.close();
        }
        obj.close();
    }

    private static byte[] bundledObject() throws BpfException {
        try (InputStream in = LifecycleProgram.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new BpfException("the jar lacks " + RESOURCE + " (build the bpf module first)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BpfException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** Readable (poll) while the ring holds records. */
    public Fd ringFd() {
        return ringFd;
    }

    /** The ring's size in bytes. */
    public int ringBytes() {
        return ringBytes;
    }

    /**
     * Parses every record committed so far into {@code sink}, in the kernel's order (every mkdir
     * and rmdir holds {@code cgroup_mutex}); returns how many.
     */
    public int drain(LifecycleRecords.Sink sink) {
        return ring.drain(records.to(sink));
    }

    /** Records the programs could not write since they were loaded (the ring was full): any increase means events were lost. */
    public long lost() {
        return (long) LONG.getVolatile(bss, LOST_OFFSET);
    }

    /** Bytes in the ring not drained yet. */
    public long pendingBytes() {
        return ring.pending();
    }

    /** Detaches, unmaps and unloads; idempotent. The owner thread must have stopped draining. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        links.forEach(Links::close);
        ring.close();
        bssRegion.close();
        obj.close();
    }
}
