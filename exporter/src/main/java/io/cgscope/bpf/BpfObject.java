package io.cgscope.bpf;

import io.cgscope.linux.Libc;

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
    private MemorySegment obj;

    private BpfObject(MemorySegment obj) {
        this.obj = obj;
    }

    /** {@code bpf_object__open_mem(bytes, size, NULL)}. */
    static BpfObject open(byte[] elf) throws BpfException {
        if (!LibBpf.available()) {
            throw new BpfException(LibBpf.unavailabilityCause());
        }
        BpfObject o = new BpfObject(MemorySegment.NULL);
        try {
            MemorySegment image = o.arena.allocate(elf.length, 8).copyFrom(MemorySegment.ofArray(elf));
            // struct bpf_object_open_opts { size_t sz; const char *object_name; ... }: only the name
            // (libbpf names an in-memory object after its address otherwise); a shorter sz is an older
            // version of the struct, which libbpf accepts.
            MemorySegment opts = o.arena.allocate(16, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, 16);
            opts.set(ValueLayout.ADDRESS, 8, o.arena.allocateFrom(OBJECT_NAME));
            MemorySegment state = LibBpf.callState();
            MemorySegment handle = (MemorySegment) LibBpf.OBJECT_OPEN_MEM.invokeExact(state, image, (long) elf.length,
                    opts);
            if (handle.equals(MemorySegment.NULL)) {
                int errno = LibBpf.errno(state);
                o.close();
                throw new BpfException("bpf_object__open_mem failed: " + LibBpf.strerror(-errno));
            }
            o.obj = handle;
            return o;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            o.close();
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map__set_max_entries} for each named map (before load). */
    void setMaxEntries(Collection<String> maps, int maxEntries) throws BpfException {
        for (String name : maps) {
            int rc;
            try {
                rc = (int) LibBpf.MAP_SET_MAX_ENTRIES.invokeExact(map(name), maxEntries);
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
            if (rc < 0) {
                throw new BpfException("bpf_map__set_max_entries(" + name + ", " + maxEntries + ") failed: "
                        + LibBpf.strerror(rc));
            }
        }
    }

    /**
     * Writes one byte of a global data section's initial image (before load), e.g. a flag in
     * {@code .rodata.config}: {@code bpf_map__initial_value(map, &size)[offset] = value}.
     */
    void setInitialByte(String map, int offset, byte value) throws BpfException {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment size = scratch.allocate(8, 8);
            MemorySegment data = (MemorySegment) LibBpf.MAP_INITIAL_VALUE.invokeExact(map(map), size);
            long n = size.get(ValueLayout.JAVA_LONG, 0);
            if (data.equals(MemorySegment.NULL) || offset < 0 || offset >= n) {
                throw new BpfException("map " + map + " has no initial byte " + offset + " (size " + n + ")");
            }
            data.reinterpret(n).set(ValueLayout.JAVA_BYTE, offset, value);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__set_autoload} (before load). */
    void setAutoload(String program, boolean load) throws BpfException {
        int rc;
        try {
            rc = (int) LibBpf.PROGRAM_SET_AUTOLOAD.invokeExact(program(program), load);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rc < 0) {
            throw new BpfException("bpf_program__set_autoload(" + program + ") failed: " + LibBpf.strerror(rc));
        }
    }

    /** {@code bpf_object__load}: creates the maps and loads the programs marked for autoload. */
    void load() throws BpfException {
        int rc;
        LibBpfLog.capture();
        try {
            rc = (int) LibBpf.OBJECT_LOAD.invokeExact(obj);
        } catch (Throwable t) {
            LibBpfLog.take();
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (rc < 0) {
            throw new BpfException("bpf_object__load failed: " + LibBpf.strerror(rc)
                    + (log.isEmpty() ? "" : "; libbpf: " + log));
        }
    }

    MemorySegment program(String name) throws BpfException {
        return find(LibBpf.FIND_PROGRAM, name, "program");
    }

    MemorySegment map(String name) throws BpfException {
        return find(LibBpf.FIND_MAP, name, "map");
    }

    /** The fd of a loaded program. */
    int programFd(String name) throws BpfException {
        int fd;
        try {
            fd = (int) LibBpf.PROGRAM_FD.invokeExact(program(name));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (fd < 0) {
            throw new BpfException("program " + name + " is not loaded");
        }
        return fd;
    }

    /** A created map: its fd, value size and capacity. */
    BpfMap openMap(String name) throws BpfException {
        MemorySegment map = map(name);
        try {
            int fd = (int) LibBpf.MAP_FD.invokeExact(map);
            int valueSize = (int) LibBpf.MAP_VALUE_SIZE.invokeExact(map);
            int maxEntries = (int) LibBpf.MAP_MAX_ENTRIES.invokeExact(map);
            if (fd < 0) {
                throw new BpfException("map " + name + " was not created");
            }
            return new BpfMap(name, fd, valueSize, maxEntries);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private MemorySegment find(java.lang.invoke.MethodHandle finder, String name, String what) throws BpfException {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) finder.invokeExact(obj, scratch.allocateFrom(name));
            if (p.equals(MemorySegment.NULL)) {
                throw new BpfException("the BPF object has no " + what + " " + name);
            }
            return p;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_object__close}: unloads the programs and frees the maps no link or fd still holds. */
    @Override
    public void close() {
        if (!obj.equals(MemorySegment.NULL)) {
            try {
                LibBpf.OBJECT_CLOSE.invokeExact(obj);
            } catch (Throwable t) {
                // nothing sensible to do; the process is the last owner of these fds anyway
            }
            obj = MemorySegment.NULL;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
