package io.cgscope.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collection;

/**
 * One {@code struct bpf_object}: opened from the ELF bytes bundled in the jar, configured (map
 * sizes, which programs load), loaded, and closed exactly once. Closing it detaches nothing by
 * itself: the caller destroys its links first. Not thread-safe: the loader owns it.
 */
final class BpfObject implements AutoCloseable {
    private static final String OBJECT_NAME = "cgscope";
    /** The ELF image; libbpf reads it until load, so it lives as long as the object. */
    private final Arena arena = Arena.ofShared();
    private MemorySegment obj = MemorySegment.NULL;

    private BpfObject() {
    }

    /** {@code bpf_object__open_mem(bytes, size, opts)}. */
    static BpfObject open(byte[] elf) throws BpfException {
        LibBpf.requireAvailable();
        BpfObject o = new BpfObject();
        try {
            MemorySegment image = o.arena.allocate(elf.length, 8).copyFrom(MemorySegment.ofArray(elf));
            // struct bpf_object_open_opts { size_t sz; const char *object_name; ... }: only the name
            // (libbpf names an in-memory object after its address otherwise); a shorter sz is an older
            // version of the struct, which libbpf accepts.
            MemorySegment opts = o.arena.allocate(16, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, 16);
            opts.set(ValueLayout.ADDRESS, 8, o.arena.allocateFrom(OBJECT_NAME));
            o.obj = LibBpf.objectOpenMem(image, elf.length, opts);
            return o;
        } catch (BpfException | RuntimeException e) {
            o.close();
            throw e;
        }
    }

    /** {@code bpf_map__set_max_entries} for each named map (before load). */
    void setMaxEntries(Collection<String> maps, int maxEntries) throws BpfException {
        for (String name : maps) {
            LibBpf.mapSetMaxEntries(map(name), name, maxEntries);
        }
    }

    /**
     * Writes one byte of a global data section's initial image (before load), e.g. a flag in
     * {@code .rodata.config}: {@code bpf_map__initial_value(map, &size)[offset] = value}.
     */
    void setInitialByte(String map, int offset, byte value) throws BpfException {
        MemorySegment data = LibBpf.mapInitialValue(map(map));
        long n = data.byteSize();
        if (data.equals(MemorySegment.NULL) || offset < 0 || offset >= n) {
            throw new BpfException("map " + map + " has no initial byte " + offset + " (size " + n + ")");
        }
        data.set(ValueLayout.JAVA_BYTE, offset, value);
    }

    /** {@code bpf_program__set_autoload} (before load). */
    void setAutoload(String program, boolean load) throws BpfException {
        LibBpf.programSetAutoload(program(program), program, load);
    }

    /** {@code bpf_object__load}: creates the maps and loads the programs marked for autoload. */
    void load() throws BpfException {
        LibBpf.objectLoad(obj);
    }

    MemorySegment program(String name) throws BpfException {
        return found(LibBpf.findProgram(obj, name), "program", name);
    }

    MemorySegment map(String name) throws BpfException {
        return found(LibBpf.findMap(obj, name), "map", name);
    }

    private static MemorySegment found(MemorySegment p, String what, String name) throws BpfException {
        if (p.equals(MemorySegment.NULL)) {
            throw new BpfException("the BPF object has no " + what + " " + name);
        }
        return p;
    }

    /** The fd of a loaded program. */
    int programFd(String name) throws BpfException {
        int fd = LibBpf.programFd(program(name));
        if (fd < 0) {
            throw new BpfException("program " + name + " is not loaded");
        }
        return fd;
    }

    /** A created map: its fd, value size and capacity. */
    BpfMap openMap(String name) throws BpfException {
        MemorySegment map = map(name);
        int fd = LibBpf.mapFd(map);
        if (fd < 0) {
            throw new BpfException("map " + name + " was not created");
        }
        return new BpfMap(name, fd, LibBpf.mapValueSize(map), LibBpf.mapMaxEntries(map));
    }

    /** {@code bpf_object__close}: unloads the programs and frees the maps no link or fd still holds. */
    @Override
    public void close() {
        if (!obj.equals(MemorySegment.NULL)) {
            LibBpf.objectClose(obj);
            obj = MemorySegment.NULL;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
