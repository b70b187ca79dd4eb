package io.cgscope.bpf;

import io.cgscope.linux.Errno;
import io.cgscope.linux.Fd;
import io.cgscope.linux.PerfEvents;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * A user's compiled BPF object ({@code --config.dir}/{@code NAME.bpf.o}), loaded with libbpf and
 * attached as ebpf_exporter attaches it: every program by its section name, as libbpf's
 * auto-attach does ({@code tracepoint/}, {@code raw_tp/}, {@code tp_btf/}, {@code fentry/},
 * {@code fexit/}, {@code kprobe/}, {@code kretprobe/}, {@code uprobe/}, ... whatever this libbpf
 * knows), plus the two sections ebpf_exporter attaches itself: {@code perf_event/type=,config=,frequency=}
 * (one event per online CPU, {@link PerfEventSpec}) and {@code xdp/<interface>}.
 *
 * <p><b>One failing program does not take the others down.</b> libbpf loads an object all or
 * nothing. When the whole load fails, each program is loaded alone in a fresh object to learn
 * which ones the kernel refuses and why (libbpf's reason, the verifier's last lines), and the
 * others are loaded together; a program that loads but cannot attach is down with its reason
 * too. The cost (a verifier run per program) is paid on this path only.
 *
 * <p>{@code kaddrs}: the addresses of named kernel symbols are written into the object's
 * {@code const volatile u64 kaddr_<symbol>} before load, found through the object's BTF (the
 * {@code .rodata} section's variables). Not thread-safe; closing detaches and unloads everything.
 */
public final class UserObject implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UserObject.class.getName());
    /** {@code enum bpf_prog_type}, {@code enum bpf_attach_type} ({@code <linux/bpf.h>}). */
    private static final int BPF_PROG_TYPE_XDP = 6;
    private static final int BPF_PROG_TYPE_PERF_EVENT = 7;
    private static final int BPF_XDP = 37;
    /** {@code BTF_KIND_DATASEC} ({@code <linux/btf.h>}); a {@code struct btf_type} is 12 bytes. */
    private static final int BTF_KIND_DATASEC = 15;
    private static final String XDP_PREFIX = "xdp/";

    private final String config;
    private final Path file;
    private final Map<String, UserProgram> programs = new LinkedHashMap<>();
    private final Map<String, List<MemorySegment>> links = new LinkedHashMap<>();
    private final Map<String, UserMap> maps = new LinkedHashMap<>();
    private final List<PerfEventBuffer> buffers = new ArrayList<>();
    private final Arena scratch = Arena.ofShared();
    private final MemorySegment progInfo = scratch.allocate(ProgInfo.LAYOUT);
    private final MemorySegment infoLen = scratch.allocate(4, 4);
    private MemorySegment obj = MemorySegment.NULL;
    private int cpus = 1;

    private UserObject(String config, Path file) {
        this.config = config;
        this.file = file;
    }

    /**
     * Opens, loads and attaches. Throws only when the file cannot be opened as a BPF object at
     * all; otherwise every program ends up or down ({@link #programs()}).
     *
     * @param kaddrs symbol -> address for the object's {@code kaddr_<symbol>} variables
     */
    public static UserObject load(String config, Path file, Map<String, Long> kaddrs) throws BpfException {
        LibBpf.requireAvailable();
        LibBpfLog.install();
        UserObject u = new UserObject(config, file);
        try {
            u.cpus = LibBpf.numPossibleCpus();
            u.loadPrograms(kaddrs);
            u.attachAll();
            u.openMaps();
            return u;
        } catch (BpfException | RuntimeException e) {
            u.close();
            throw e;
        }
    }

    /** The programs libbpf would load (in file order), each up or down with its reason. */
    public List<UserProgram> programs() {
        return List.copyOf(programs.values());
    }

    /** Whether the object is loaded (its maps exist): false when no program could be loaded. */
    public boolean loaded() {
        return !obj.equals(MemorySegment.NULL);
    }

    /** A map of the loaded object by name. */
    public Optional<UserMap> map(String name) {
        return Optional.ofNullable(maps.get(name));
    }

    /** Possible CPUs (the values of a per-CPU entry). */
    public int cpus() {
        return cpus;
    }

    /** Starts reading a {@code perf_event_array} map's records ({@link PerfEventBuffer}); closed with this object. */
    public PerfEventBuffer perfBuffer(String map, Consumer<byte[]> onRecord, LongConsumer onLost) throws BpfException {
        UserMap m = maps.get(map);
        if (m == null) {
            throw new BpfException("the object has no map " + map);
        }
        PerfEventBuffer b = PerfEventBuffer.open(m, onRecord, onLost);
        buffers.add(b);
        return b;
    }

    /**
     * Run time and count of each attached program (by name), as the kernel counts them while
     * {@code kernel.bpf_stats_enabled} is 1; empty otherwise.
     */
    public Map<String, CounterSource.RunStats> runStats() {
        if (!loaded() || !BpfCompanion.statsEnabled()) {
            return Map.of();
        }
        Map<String, CounterSource.RunStats> out = new LinkedHashMap<>();
        for (UserProgram p : programs.values()) {
            if (!p.up()) {
                continue;
            }
            int fd = LibBpf.programFd(LibBpf.findProgram(obj, p.name()));
            progInfo.fill((byte) 0);
            infoLen.set(ValueLayout.JAVA_INT, 0, ProgInfo.SIZE);
            if (fd >= 0 && LibBpf.objGetInfoByFd(fd, progInfo, infoLen) == 0) {
                out.put(p.name(), new CounterSource.RunStats(ProgInfo.runTimeNs(progInfo), ProgInfo.runCount(progInfo)));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- load

    private void loadPrograms(Map<String, Long> kaddrs) throws BpfException {
        // The programs libbpf would load, with their sections, from a first open.
        Map<String, String> sections = new LinkedHashMap<>();
        MemorySegment probe = LibBpf.objectOpenFile(file.toString(), MemorySegment.NULL);
        try {
            for (MemorySegment p = LibBpf.nextProgram(probe, MemorySegment.NULL); !p.equals(MemorySegment.NULL);
                 p = LibBpf.nextProgram(probe, p)) {
                if (LibBpf.programAutoload(p)) {
                    sections.put(LibBpf.programName(p), LibBpf.programSectionName(p));
                }
            }
        } finally {
            LibBpf.objectClose(probe);
        }
        Map<String, String> failed = new LinkedHashMap<>();
        Set<String> all = sections.keySet();
        try {
            obj = attempt(all, kaddrs);
        } catch (BpfException whole) {
            if (all.size() <= 1) {
                all.forEach(p -> failed.put(p, whole.getMessage()));
            } else {
                LOG.fine("config " + config + ": loading " + file + " failed, loading each program alone: "
                        + whole.getMessage());
                Set<String> ok = new LinkedHashSet<>();
                for (String p : all) {
                    try {
                        LibBpf.objectClose(attempt(Set.of(p), kaddrs));
                        ok.add(p);
                    } catch (BpfException e) {
                        failed.put(p, e.getMessage());
                    }
                }
                if (!ok.isEmpty()) {
                    try {
                        obj = attempt(ok, kaddrs);
                    } catch (BpfException e) {
                        ok.forEach(p -> failed.put(p, e.getMessage()));
                    }
                }
            }
        }
        for (Map.Entry<String, String> e : sections.entrySet()) {
            String reason = failed.get(e.getKey());
            programs.put(e.getKey(), new UserProgram(e.getKey(), e.getValue(), reason == null,
                    reason == null ? "" : "load: " + reason));
        }
    }

    /** A fresh object with only {@code wanted} to load: sections typed, kaddrs written, loaded. */
    private MemorySegment attempt(Set<String> wanted, Map<String, Long> kaddrs) throws BpfException {
        MemorySegment o = LibBpf.objectOpenFile(file.toString(), MemorySegment.NULL);
        try {
            for (MemorySegment p = LibBpf.nextProgram(o, MemorySegment.NULL); !p.equals(MemorySegment.NULL);
                 p = LibBpf.nextProgram(o, p)) {
                String name = LibBpf.programName(p);
                boolean load = wanted.contains(name);
                LibBpf.programSetAutoload(p, name, load);
                String section = LibBpf.programSectionName(p);
                if (load && LibBpf.programType(p) == 0) {
                    // Sections libbpf does not know, which ebpf_exporter types itself.
                    if (PerfEventSpec.names(section)) {
                        LibBpf.programSetType(p, name, BPF_PROG_TYPE_PERF_EVENT, 0);
                    } else if (section.startsWith(XDP_PREFIX)) {
                        LibBpf.programSetType(p, name, BPF_PROG_TYPE_XDP, BPF_XDP);
                    }
                }
            }
            for (Map.Entry<String, Long> k : kaddrs.entrySet()) {
                setKaddr(o, k.getKey(), k.getValue());
            }
            LibBpf.objectLoad(o);
            return o;
        } catch (BpfException | RuntimeException e) {
            LibBpf.objectClose(o);
            throw e;
        }
    }

    /** Writes {@code address} into {@code const volatile u64 kaddr_<symbol>} of the object's {@code .rodata}. */
    private static void setKaddr(MemorySegment o, String symbol, long address) throws BpfException {
        String var = "kaddr_" + symbol;
        MemorySegment btf = LibBpf.objectBtf(o);
        int sec = btf.equals(MemorySegment.NULL) ? -1 : LibBpf.btfFindByNameKind(btf, ".rodata", BTF_KIND_DATASEC);
        MemorySegment rodata = MemorySegment.NULL;
        for (MemorySegment m = LibBpf.nextMap(o, MemorySegment.NULL); !m.equals(MemorySegment.NULL);
             m = LibBpf.nextMap(o, m)) {
            if (LibBpf.mapName(m).endsWith(".rodata")) {
                rodata = m;
            }
        }
        if (sec > 0 && !rodata.equals(MemorySegment.NULL)) {
            int vlen = LibBpf.btfTypeById(btf, sec, 0).get(ValueLayout.JAVA_INT_UNALIGNED, 4) & 0xffff;
            MemorySegment t = LibBpf.btfTypeById(btf, sec, 12L * vlen);
            MemorySegment data = LibBpf.mapInitialValue(rodata);
            for (int i = 0; i < vlen; i++) {
                long at = 12 + 12L * i; // struct btf_var_secinfo { __u32 type; __u32 offset; __u32 size; }
                int type = t.get(ValueLayout.JAVA_INT_UNALIGNED, at);
                int offset = t.get(ValueLayout.JAVA_INT_UNALIGNED, at + 4);
                int size = t.get(ValueLayout.JAVA_INT_UNALIGNED, at + 8);
                MemorySegment v = LibBpf.btfTypeById(btf, type, 0);
                if (v.equals(MemorySegment.NULL) || !LibBpf.btfNameByOffset(btf, v.get(ValueLayout.JAVA_INT_UNALIGNED, 0))
                        .equals(var)) {
                    continue;
                }
                if (size != 8 || data.equals(MemorySegment.NULL) || offset + 8L > data.byteSize()) {
                    throw new BpfException(var + " is not a u64 in .rodata (size " + size + ")");
                }
                data.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, address);
                return;
            }
        }
        throw new BpfException("kaddrs names " + symbol + ", but the object has no const volatile u64 " + var);
    }

    // ---------------------------------------------------------------- attach

    private void attachAll() {
        if (!loaded()) {
            return;
        }
        for (UserProgram p : List.copyOf(programs.values())) {
            if (!p.up()) {
                continue;
            }
            List<MemorySegment> made = new ArrayList<>();
            try {
                attach(LibBpf.findProgram(obj, p.name()), p, made);
                links.put(p.name(), made);
            } catch (BpfException | RuntimeException e) {
                made.forEach(LibBpf::linkDestroy);
                programs.put(p.name(), new UserProgram(p.name(), p.section(), false, "attach: " + e.getMessage()));
            }
        }
    }

    private void attach(MemorySegment prog, UserProgram p, List<MemorySegment> made) throws BpfException {
        String section = p.section();
        if (PerfEventSpec.names(section)) {
            PerfEventSpec spec = PerfEventSpec.parse(section);
            for (int cpu : Links.onlineCpus()) {
                Fd event;
                try {
                    event = PerfEvents.sampling(spec.type(), spec.config(), spec.frequency(), cpu);
                } catch (SyscallException e) {
                    throw new BpfException(e.getMessage(), e);
                }
                try {
                    made.add(LibBpf.programAttachPerfEvent(prog, p.name(), cpu, event.get()));
                } catch (BpfException | RuntimeException e) {
                    event.closeQuietly();
                    throw e;
                }
            }
            return;
        }
        if (section.startsWith(XDP_PREFIX)) {
            String device = section.substring(XDP_PREFIX.length());
            NetworkInterface nic;
            try {
                nic = NetworkInterface.getByName(device);
            } catch (SocketException e) {
                nic = null;
            }
            if (nic == null || nic.getIndex() <= 0) {
                throw new BpfException("section " + section + ": no network interface " + device);
            }
            made.add(LibBpf.programAttachXdp(prog, p.name(), nic.getIndex()));
            return;
        }
        try {
            made.add(LibBpf.programAttach(prog, p.name()));
        } catch (BpfException e) {
            if (e.getMessage().contains("(-" + Errno.EOPNOTSUPP + ")")) {
                throw new BpfException(e.getMessage() + " (libbpf cannot attach section " + section
                        + " by itself; cgscope also attaches perf_event/type=T,config=C,frequency=F and xdp/<interface>)");
            }
            throw e;
        }
    }

    private void openMaps() {
        if (!loaded()) {
            return;
        }
        for (MemorySegment m = LibBpf.nextMap(obj, MemorySegment.NULL); !m.equals(MemorySegment.NULL);
             m = LibBpf.nextMap(obj, m)) {
            int fd = LibBpf.mapFd(m);
            if (fd >= 0) {
                String name = LibBpf.mapName(m);
                maps.put(name, new UserMap(name, fd, LibBpf.mapType(m), LibBpf.mapKeySize(m),
                        LibBpf.mapValueSize(m), LibBpf.mapMaxEntries(m), cpus));
            }
        }
    }

    /** Stops the perf buffers, detaches every program, frees the maps and unloads the object. Idempotent. */
    @Override
    public void close() {
        for (PerfEventBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
        for (List<MemorySegment> l : links.values()) {
            l.forEach(LibBpf::linkDestroy);
        }
        links.clear();
        for (UserMap m : maps.values()) {
            m.close();
        }
        maps.clear();
        if (!obj.equals(MemorySegment.NULL)) {
            LibBpf.objectClose(obj);
            obj = MemorySegment.NULL;
        }
        for (Map.Entry<String, UserProgram> e : programs.entrySet()) {
            UserProgram p = e.getValue();
            if (p.up()) {
                e.setValue(new UserProgram(p.name(), p.section(), false, "stopped"));
            }
        }
        if (scratch.scope().isAlive()) {
            scratch.close();
        }
    }

    @Override
    public String toString() {
        return "config " + config + " (" + file + ")";
    }

    /** Unmodifiable view for tests. */
    Map<String, UserMap> maps() {
        return Collections.unmodifiableMap(maps);
    }
}
