package io.cgscope.bpf;

import io.cgscope.linux.Arch;
import io.cgscope.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libbpf functions cgscope calls, bound by hand with Panama FFM against Debian's
 * {@code libbpf.so.1} (1.1), each behind a typed static method, as {@link Libc} does for libc.
 * The only class that links libbpf: the rest of the package calls these methods and holds no
 * handle, {@code invokeExact} or {@code catch (Throwable)} of its own.
 *
 * <p><b>One error convention.</b> libbpf 1.x returns {@code -errno} from functions returning
 * {@code int}, and NULL with errno set from functions returning a pointer (those handles capture
 * errno, read only after a NULL). The methods here keep that as one rule: a failure is a negative
 * errno ({@code -errno}), never a positive one. Where a failure can be a result for the caller (ENOENT
 * ends an iteration, a key deleted meanwhile, a kernel that refuses batches), the method returns
 * it ({@code 0} or {@code -errno}) and the caller decides; where any failure is an error, the
 * method throws. Every {@link BpfException} is made by {@link #failure}, which names the call and
 * libbpf's text: {@code bpf_map_lookup_elem(update_failures) failed: Operation not permitted (-1)}.
 * Calls that make libbpf print its reason (load, attach) add libbpf's last lines ({@link LibBpfLog}).
 *
 * <p>When the library is missing every handle is null, {@link #available()} is false and
 * {@link #unavailabilityCause()} says why; callers check before their first call.
 *
 * <p>Over 400 lines because it is the one binding of one library (STYLE.md: one binding class per
 * native library): each function is a handle, its C prototype and one typed method, nothing else;
 * for cgscope's own objects and for users' ({@link UserObject}: files, programs, maps, BTF, perf buffers).
 */
final class LibBpf {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static final String LIBRARY = "libbpf.so.1";
    private static final SymbolLookup LOOKUP;
    private static final String CAUSE;

    static {
        SymbolLookup lookup = null;
        String cause = null;
        try {
            lookup = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            cause = LIBRARY + " cannot be loaded (install the Debian package libbpf1): " + e.getMessage();
        }
        LOOKUP = lookup;
        CAUSE = cause;
    }

    // libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn);  <bpf/libbpf.h>
    private static final MethodHandle SET_PRINT = plain("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
    //                                         const struct bpf_object_open_opts *opts);  <bpf/libbpf.h>
    private static final MethodHandle OBJECT_OPEN_MEM = withErrno("bpf_object__open_mem",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    // int bpf_object__load(struct bpf_object *obj);  <bpf/libbpf.h>
    private static final MethodHandle OBJECT_LOAD = plain("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // void bpf_object__close(struct bpf_object *obj);  <bpf/libbpf.h>
    private static final MethodHandle OBJECT_CLOSE = plain("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
    // struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name);
    private static final MethodHandle FIND_PROGRAM = plain("bpf_object__find_program_by_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name);
    private static final MethodHandle FIND_MAP = plain("bpf_object__find_map_by_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // int bpf_program__set_autoload(struct bpf_program *prog, bool autoload);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_SET_AUTOLOAD = plain("bpf_program__set_autoload",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BOOLEAN));
    // int bpf_program__fd(const struct bpf_program *prog);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_FD = plain("bpf_program__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // struct bpf_link *bpf_program__attach(const struct bpf_program *prog);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_ATTACH = withErrno("bpf_program__attach",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *prog, int pfd);
    private static final MethodHandle PROGRAM_ATTACH_PERF_EVENT = withErrno("bpf_program__attach_perf_event",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    // int bpf_link__destroy(struct bpf_link *link);  <bpf/libbpf.h>
    private static final MethodHandle LINK_DESTROY = plain("bpf_link__destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries);  <bpf/libbpf.h>
    private static final MethodHandle MAP_SET_MAX_ENTRIES = plain("bpf_map__set_max_entries",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // const void *bpf_map__initial_value(struct bpf_map *map, size_t *psize);  <bpf/libbpf.h>
    // (before load: the writable image of a global data section such as .rodata)
    private static final MethodHandle MAP_INITIAL_VALUE = plain("bpf_map__initial_value",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // int bpf_map__fd(const struct bpf_map *map);  <bpf/libbpf.h>
    private static final MethodHandle MAP_FD = plain("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // __u32 bpf_map__value_size(const struct bpf_map *map);  <bpf/libbpf.h>
    private static final MethodHandle MAP_VALUE_SIZE = plain("bpf_map__value_size",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // __u32 bpf_map__max_entries(const struct bpf_map *map);  <bpf/libbpf.h>
    private static final MethodHandle MAP_MAX_ENTRIES = plain("bpf_map__max_entries",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values,
    //                          __u32 *count, const struct bpf_map_batch_opts *opts);  <bpf/bpf.h>
    private static final MethodHandle MAP_LOOKUP_BATCH = plain("bpf_map_lookup_batch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    // int bpf_map_get_next_key(int fd, const void *key, void *next_key);  <bpf/bpf.h>
    private static final MethodHandle MAP_GET_NEXT_KEY = plain("bpf_map_get_next_key",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // int bpf_map_lookup_elem(int fd, const void *key, void *value);  <bpf/bpf.h>
    private static final MethodHandle MAP_LOOKUP_ELEM = plain("bpf_map_lookup_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);  <bpf/bpf.h>
    private static final MethodHandle MAP_UPDATE_ELEM = plain("bpf_map_update_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    // int bpf_map_delete_elem(int fd, const void *key);  <bpf/bpf.h>
    private static final MethodHandle MAP_DELETE_ELEM = plain("bpf_map_delete_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    // int bpf_obj_get_info_by_fd(int bpf_fd, void *info, __u32 *info_len);  <bpf/bpf.h>
    private static final MethodHandle OBJ_GET_INFO_BY_FD = plain("bpf_obj_get_info_by_fd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
    //                                     const struct ring_buffer_opts *opts);  <bpf/libbpf.h>
    // typedef int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size);
    private static final MethodHandle RING_BUFFER_NEW = withErrno("ring_buffer__new",
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    // int ring_buffer__consume(struct ring_buffer *rb);  <bpf/libbpf.h>: records handled, or -errno
    private static final MethodHandle RING_BUFFER_CONSUME = plain("ring_buffer__consume",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int ring_buffer__epoll_fd(const struct ring_buffer *rb);  <bpf/libbpf.h>
    private static final MethodHandle RING_BUFFER_EPOLL_FD = plain("ring_buffer__epoll_fd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // void ring_buffer__free(struct ring_buffer *rb);  <bpf/libbpf.h>
    private static final MethodHandle RING_BUFFER_FREE = plain("ring_buffer__free", FunctionDescriptor.ofVoid(ADDRESS));
    // int libbpf_num_possible_cpus(void);  <bpf/libbpf.h>
    private static final MethodHandle NUM_POSSIBLE_CPUS = plain("libbpf_num_possible_cpus",
            FunctionDescriptor.of(JAVA_INT));
    // int libbpf_strerror(int err, char *buf, size_t size);  <bpf/libbpf.h>
    private static final MethodHandle STRERROR = plain("libbpf_strerror",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));

    // ---- user programs (io.cgscope.programs): open a file, walk its programs and maps, BTF, perf buffers
    // struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts);
    private static final MethodHandle OBJECT_OPEN_FILE = withErrno("bpf_object__open_file",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog);
    private static final MethodHandle NEXT_PROGRAM = plain("bpf_object__next_program",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // const char *bpf_program__name(const struct bpf_program *prog);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_NAME = plain("bpf_program__name", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // const char *bpf_program__section_name(const struct bpf_program *prog);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_SECTION_NAME = plain("bpf_program__section_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // bool bpf_program__autoload(const struct bpf_program *prog);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_AUTOLOAD = plain("bpf_program__autoload",
            FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS));
    // enum bpf_prog_type bpf_program__type(const struct bpf_program *prog);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_TYPE = plain("bpf_program__type", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int bpf_program__set_type(struct bpf_program *prog, enum bpf_prog_type type);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_SET_TYPE = plain("bpf_program__set_type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int bpf_program__set_expected_attach_type(struct bpf_program *prog, enum bpf_attach_type type);
    private static final MethodHandle PROGRAM_SET_EXPECTED_ATTACH_TYPE = plain("bpf_program__set_expected_attach_type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // struct bpf_link *bpf_program__attach_xdp(const struct bpf_program *prog, int ifindex);  <bpf/libbpf.h>
    private static final MethodHandle PROGRAM_ATTACH_XDP = withErrno("bpf_program__attach_xdp",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    // struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map);
    private static final MethodHandle NEXT_MAP = plain("bpf_object__next_map",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // const char *bpf_map__name(const struct bpf_map *map);  <bpf/libbpf.h>
    private static final MethodHandle MAP_NAME = plain("bpf_map__name", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // enum bpf_map_type bpf_map__type(const struct bpf_map *map);  <bpf/libbpf.h>
    private static final MethodHandle MAP_TYPE = plain("bpf_map__type", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // __u32 bpf_map__key_size(const struct bpf_map *map);  <bpf/libbpf.h>
    private static final MethodHandle MAP_KEY_SIZE = plain("bpf_map__key_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // struct btf *bpf_object__btf(const struct bpf_object *obj);  <bpf/libbpf.h>
    private static final MethodHandle OBJECT_BTF = plain("bpf_object__btf", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // __s32 btf__find_by_name_kind(const struct btf *btf, const char *type_name, __u32 kind);  <bpf/btf.h>
    private static final MethodHandle BTF_FIND_BY_NAME_KIND = plain("btf__find_by_name_kind",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    // const struct btf_type *btf__type_by_id(const struct btf *btf, __u32 id);  <bpf/btf.h>
    private static final MethodHandle BTF_TYPE_BY_ID = plain("btf__type_by_id",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    // const char *btf__name_by_offset(const struct btf *btf, __u32 offset);  <bpf/btf.h>
    private static final MethodHandle BTF_NAME_BY_OFFSET = plain("btf__name_by_offset",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    // struct perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, perf_buffer_sample_fn sample_cb,
    //         perf_buffer_lost_fn lost_cb, void *ctx, const struct perf_buffer_opts *opts);  <bpf/libbpf.h>
    private static final MethodHandle PERF_BUFFER_NEW = withErrno("perf_buffer__new",
            FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    // int perf_buffer__poll(struct perf_buffer *pb, int timeout_ms);  <bpf/libbpf.h>
    private static final MethodHandle PERF_BUFFER_POLL = plain("perf_buffer__poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // void perf_buffer__free(struct perf_buffer *pb);  <bpf/libbpf.h>
    private static final MethodHandle PERF_BUFFER_FREE = plain("perf_buffer__free", FunctionDescriptor.ofVoid(ADDRESS));

    /** {@code BPF_ANY} for {@code bpf_map_update_elem} ({@code <linux/bpf.h>}). */
    static final long BPF_ANY = 0;
    /** {@code enum libbpf_print_level} ({@code <bpf/libbpf.h>}). */
    static final int LIBBPF_WARN = 0;
    static final int LIBBPF_INFO = 1;

    private LibBpf() {
    }

    // ---------------------------------------------------------------- the library and its errors

    /** Whether libbpf could be loaded. */
    static boolean available() {
        return LOOKUP != null;
    }

    /** Why libbpf is unavailable, or null. */
    static String unavailabilityCause() {
        return CAUSE;
    }

    /** Throws with {@link #unavailabilityCause()} when libbpf is missing: before a first call. */
    static void requireAvailable() throws BpfException {
        if (!available()) {
            throw new BpfException(CAUSE);
        }
    }

    /** libbpf's text for an error ({@code -errno} or a libbpf error code), e.g. "Operation not permitted (-1)". */
    static String strerror(int err) {
        if (STRERROR == null) {
            return "error " + err;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            int rc = (int) STRERROR.invokeExact(err, buf, buf.byteSize());
            String text = buf.getString(0);
            return rc == 0 && !text.isEmpty() ? text + " (" + err + ")" : "error " + err;
        } catch (Throwable t) {
            return "error " + err;
        }
    }

    /** The one way a failed call becomes an exception: {@code <call> failed: <libbpf's text>}. */
    static BpfException failure(String call, int err) {
        return failure(call, err, "");
    }

    /** As {@link #failure(String, int)}, with {@code detail} appended (a hint, or libbpf's own log). */
    static BpfException failure(String call, int err, String detail) {
        return new BpfException(call + " failed: " + strerror(err) + detail);
    }

    /** libbpf's last lines, as a suffix for {@link #failure}: empty when it printed nothing. */
    private static String logDetail(String log) {
        return log.isEmpty() ? "" : "; libbpf: " + log;
    }

    /** {@code int libbpf_num_possible_cpus(void)}. */
    static int numPossibleCpus() throws BpfException {
        requireAvailable();
        int n;
        try {
            n = (int) NUM_POSSIBLE_CPUS.invokeExact();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (n <= 0) {
            throw failure("libbpf_num_possible_cpus", n);
        }
        return n;
    }

    // ---------------------------------------------------------------- objects

    /** {@code bpf_object__open_mem(image, size, opts)}: the object, never NULL. */
    static MemorySegment objectOpenMem(MemorySegment image, long size, MemorySegment opts) throws BpfException {
        requireAvailable();
        MemorySegment state = CALL_STATE.get();
        MemorySegment obj;
        try {
            obj = (MemorySegment) OBJECT_OPEN_MEM.invokeExact(state, image, size, opts);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (obj.equals(MemorySegment.NULL)) {
            throw failure("bpf_object__open_mem", -errno(state));
        }
        return obj;
    }

    /** {@code bpf_object__load(obj)}: creates the maps and loads the programs marked for autoload. */
    static void objectLoad(MemorySegment obj) throws BpfException {
        int rc;
        LibBpfLog.capture();
        try {
            rc = (int) OBJECT_LOAD.invokeExact(obj);
        } catch (Throwable t) {
            LibBpfLog.take();
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (rc < 0) {
            throw failure("bpf_object__load", rc, logDetail(log));
        }
    }

    /** {@code bpf_object__close(obj)}; never throws (the process is the last owner of its fds anyway). */
    static void objectClose(MemorySegment obj) {
        try {
            OBJECT_CLOSE.invokeExact(obj);
        } catch (Throwable t) {
            // nothing sensible to do
        }
    }

    /** {@code bpf_object__find_program_by_name}: the program, or {@link MemorySegment#NULL} when there is none. */
    static MemorySegment findProgram(MemorySegment obj, String name) {
        return find(FIND_PROGRAM, obj, name);
    }

    /** {@code bpf_object__find_map_by_name}: the map, or {@link MemorySegment#NULL} when there is none. */
    static MemorySegment findMap(MemorySegment obj, String name) {
        return find(FIND_MAP, obj, name);
    }

    private static MemorySegment find(MethodHandle finder, MemorySegment obj, String name) {
        try (Arena scratch = Arena.ofConfined()) {
            return (MemorySegment) finder.invokeExact(obj, scratch.allocateFrom(name));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- programs and links

    /** {@code bpf_program__set_autoload(prog, load)} (before load). */
    static void programSetAutoload(MemorySegment prog, String name, boolean load) throws BpfException {
        int rc;
        try {
            rc = (int) PROGRAM_SET_AUTOLOAD.invokeExact(prog, load);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rc < 0) {
            throw failure("bpf_program__set_autoload(" + name + ")", rc);
        }
    }

    /** {@code bpf_program__fd(prog)}: the fd, or {@code -errno} when the program is not loaded. */
    static int programFd(MemorySegment prog) {
        try {
            return (int) PROGRAM_FD.invokeExact(prog);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__attach(prog)}: the link (its section name says where, e.g. {@code tp_btf/sched_switch}). */
    static MemorySegment programAttach(MemorySegment prog, String name) throws BpfException {
        MemorySegment state = CALL_STATE.get();
        MemorySegment link;
        LibBpfLog.capture();
        try {
            link = (MemorySegment) PROGRAM_ATTACH.invokeExact(state, prog);
        } catch (Throwable t) {
            LibBpfLog.take();
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (link.equals(MemorySegment.NULL)) {
            throw failure("bpf_program__attach(" + name + ")", -errno(state), logDetail(log));
        }
        return link;
    }

    /**
     * {@code bpf_program__attach_perf_event(prog, perfFd)}: the link, which owns the perf event fd
     * from then on ({@link #linkDestroy} closes it); on a failure the caller still owns it.
     */
    static MemorySegment programAttachPerfEvent(MemorySegment prog, String name, int cpu, int perfFd)
            throws BpfException {
        MemorySegment state = CALL_STATE.get();
        MemorySegment link;
        LibBpfLog.capture();
        try {
            link = (MemorySegment) PROGRAM_ATTACH_PERF_EVENT.invokeExact(state, prog, perfFd);
        } catch (Throwable t) {
            LibBpfLog.take();
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (link.equals(MemorySegment.NULL)) {
            throw failure("bpf_program__attach_perf_event(" + name + ", cpu " + cpu + ")", -errno(state),
                    logDetail(log));
        }
        return link;
    }

    /** {@code bpf_link__destroy(link)}: detaches; never throws (detaching cannot be retried meaningfully). */
    static void linkDestroy(MemorySegment link) {
        try {
            int rc = (int) LINK_DESTROY.invokeExact(link);
        } catch (Throwable t) {
            // the fds go with the process at the latest
        }
    }

    // ---------------------------------------------------------------- maps of an object

    /** {@code bpf_map__set_max_entries(map, maxEntries)} (before load). */
    static void mapSetMaxEntries(MemorySegment map, String name, int maxEntries) throws BpfException {
        int rc;
        try {
            rc = (int) MAP_SET_MAX_ENTRIES.invokeExact(map, maxEntries);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rc < 0) {
            throw failure("bpf_map__set_max_entries(" + name + ", " + maxEntries + ")", rc);
        }
    }

    /**
     * {@code bpf_map__initial_value(map, &size)} (before load): the writable image of a global data
     * section, as a segment of its size, or {@link MemorySegment#NULL} when the map has none.
     */
    static MemorySegment mapInitialValue(MemorySegment map) {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment size = scratch.allocate(JAVA_LONG);
            MemorySegment data = (MemorySegment) MAP_INITIAL_VALUE.invokeExact(map, size);
            return data.equals(MemorySegment.NULL) ? data : data.reinterpret(size.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map__fd(map)}: the fd, or {@code -errno} when the map was not created. */
    static int mapFd(MemorySegment map) {
        return intOf(MAP_FD, map);
    }

    /** {@code bpf_map__value_size(map)}. */
    static int mapValueSize(MemorySegment map) {
        return intOf(MAP_VALUE_SIZE, map);
    }

    /** {@code bpf_map__max_entries(map)}. */
    static int mapMaxEntries(MemorySegment map) {
        return intOf(MAP_MAX_ENTRIES, map);
    }

    private static int intOf(MethodHandle getter, MemorySegment map) {
        try {
            return (int) getter.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- map fds: 0 or -errno, the caller decides

    /**
     * {@code bpf_map_lookup_batch(fd, in, out, keys, values, count, NULL)}: 0, or {@code -ENOENT}
     * for the last batch (entries may still have been read: {@code *count}), or another {@code -errno}.
     */
    static int mapLookupBatch(int fd, MemorySegment inBatch, MemorySegment outBatch, MemorySegment keys,
                              MemorySegment values, MemorySegment count) {
        try {
            return (int) MAP_LOOKUP_BATCH.invokeExact(fd, inBatch, outBatch, keys, values, count, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_get_next_key(fd, key, next)}: 0, {@code -ENOENT} after the last key, or {@code -errno}. */
    static int mapGetNextKey(int fd, MemorySegment key, MemorySegment nextKey) {
        try {
            return (int) MAP_GET_NEXT_KEY.invokeExact(fd, key, nextKey);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_lookup_elem(fd, key, value)}: 0, {@code -ENOENT} when absent, or {@code -errno}. */
    static int mapLookupElem(int fd, MemorySegment key, MemorySegment value) {
        try {
            return (int) MAP_LOOKUP_ELEM.invokeExact(fd, key, value);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_update_elem(fd, key, value, flags)}: 0 or {@code -errno}. */
    static int mapUpdateElem(int fd, MemorySegment key, MemorySegment value, long flags) {
        try {
            return (int) MAP_UPDATE_ELEM.invokeExact(fd, key, value, flags);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_delete_elem(fd, key)}: 0, {@code -ENOENT} when absent, or {@code -errno}. */
    static int mapDeleteElem(int fd, MemorySegment key) {
        try {
            return (int) MAP_DELETE_ELEM.invokeExact(fd, key);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_obj_get_info_by_fd(fd, info, &len)}: 0 or {@code -errno}; {@code infoLen} holds a __u32. */
    static int objGetInfoByFd(int fd, MemorySegment info, MemorySegment infoLen) {
        try {
            return (int) OBJ_GET_INFO_BY_FD.invokeExact(fd, info, infoLen);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- user objects: files, programs, maps, BTF

    /** {@code bpf_object__open_file(path, opts)}: the object, never NULL. */
    static MemorySegment objectOpenFile(String path, MemorySegment opts) throws BpfException {
        requireAvailable();
        MemorySegment state = CALL_STATE.get();
        MemorySegment obj;
        LibBpfLog.capture();
        try (Arena scratch = Arena.ofConfined()) {
            obj = (MemorySegment) OBJECT_OPEN_FILE.invokeExact(state, scratch.allocateFrom(path), opts);
        } catch (Throwable t) {
            LibBpfLog.take();
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (obj.equals(MemorySegment.NULL)) {
            throw failure("bpf_object__open_file(" + path + ")", -errno(state), logDetail(log));
        }
        return obj;
    }

    /** {@code bpf_object__next_program(obj, prev)}: the next program, or NULL after the last (prev NULL: the first). */
    static MemorySegment nextProgram(MemorySegment obj, MemorySegment prev) {
        try {
            return (MemorySegment) NEXT_PROGRAM.invokeExact(obj, prev);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_object__next_map(obj, prev)}: the next map, or NULL after the last (prev NULL: the first). */
    static MemorySegment nextMap(MemorySegment obj, MemorySegment prev) {
        try {
            return (MemorySegment) NEXT_MAP.invokeExact(obj, prev);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__name(prog)}. */
    static String programName(MemorySegment prog) {
        return stringOf(PROGRAM_NAME, prog);
    }

    /** {@code bpf_program__section_name(prog)}, e.g. {@code tp_btf/sched_switch}. */
    static String programSectionName(MemorySegment prog) {
        return stringOf(PROGRAM_SECTION_NAME, prog);
    }

    /** {@code bpf_map__name(map)}. */
    static String mapName(MemorySegment map) {
        return stringOf(MAP_NAME, map);
    }

    private static String stringOf(MethodHandle getter, MemorySegment of) {
        try {
            MemorySegment s = (MemorySegment) getter.invokeExact(of);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__autoload(prog)}: whether libbpf will load it ({@code SEC("?...")} says no). */
    static boolean programAutoload(MemorySegment prog) {
        try {
            return (boolean) PROGRAM_AUTOLOAD.invokeExact(prog);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__type(prog)}: {@code enum bpf_prog_type}, 0 (UNSPEC) for a section libbpf does not know. */
    static int programType(MemorySegment prog) {
        try {
            return (int) PROGRAM_TYPE.invokeExact(prog);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__set_type} and {@code bpf_program__set_expected_attach_type} (before load). */
    static void programSetType(MemorySegment prog, String name, int progType, int attachType) throws BpfException {
        int rc;
        try {
            rc = (int) PROGRAM_SET_TYPE.invokeExact(prog, progType);
            if (rc == 0) {
                rc = (int) PROGRAM_SET_EXPECTED_ATTACH_TYPE.invokeExact(prog, attachType);
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rc < 0) {
            throw failure("bpf_program__set_type(" + name + ")", rc);
        }
    }

    /** {@code bpf_program__attach_xdp(prog, ifindex)}: the link. */
    static MemorySegment programAttachXdp(MemorySegment prog, String name, int ifindex) throws BpfException {
        MemorySegment state = CALL_STATE.get();
        MemorySegment link;
        LibBpfLog.capture();
        try {
            link = (MemorySegment) PROGRAM_ATTACH_XDP.invokeExact(state, prog, ifindex);
        } catch (Throwable t) {
            LibBpfLog.take();
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (link.equals(MemorySegment.NULL)) {
            throw failure("bpf_program__attach_xdp(" + name + ", ifindex " + ifindex + ")", -errno(state),
                    logDetail(log));
        }
        return link;
    }

    /** {@code bpf_map__type(map)}: {@code enum bpf_map_type}. */
    static int mapType(MemorySegment map) {
        return intOf(MAP_TYPE, map);
    }

    /** {@code bpf_map__key_size(map)}. */
    static int mapKeySize(MemorySegment map) {
        return intOf(MAP_KEY_SIZE, map);
    }

    /** {@code bpf_object__btf(obj)}: the object's BTF, or NULL when it has none. */
    static MemorySegment objectBtf(MemorySegment obj) {
        try {
            return (MemorySegment) OBJECT_BTF.invokeExact(obj);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code btf__find_by_name_kind(btf, name, kind)}: the type id, or a negative error when there is none. */
    static int btfFindByNameKind(MemorySegment btf, String name, int kind) {
        try (Arena scratch = Arena.ofConfined()) {
            return (int) BTF_FIND_BY_NAME_KIND.invokeExact(btf, scratch.allocateFrom(name), kind);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * {@code btf__type_by_id(btf, id)}: {@code struct btf_type} and what follows it (up to
     * {@code trailing} bytes, e.g. a DATASEC's {@code btf_var_secinfo} array), or NULL.
     */
    static MemorySegment btfTypeById(MemorySegment btf, int id, long trailing) {
        try {
            MemorySegment t = (MemorySegment) BTF_TYPE_BY_ID.invokeExact(btf, id);
            return t.equals(MemorySegment.NULL) ? t : t.reinterpret(12 + trailing);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code btf__name_by_offset(btf, offset)}: a name in the BTF string table ("" when there is none). */
    static String btfNameByOffset(MemorySegment btf, int offset) {
        try {
            MemorySegment s = (MemorySegment) BTF_NAME_BY_OFFSET.invokeExact(btf, offset);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- perf buffers

    /** Receives one perf buffer's records; called on the thread that polls it; must not throw. */
    interface PerfSink {
        void sample(int cpu, MemorySegment data);

        void lost(int cpu, long count);
    }

    private static final java.util.concurrent.ConcurrentHashMap<Long, PerfSink> PERF_SINKS =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.util.concurrent.atomic.AtomicLong PERF_SINK_IDS = new java.util.concurrent.atomic.AtomicLong();
    private static MemorySegment sampleStub;
    private static MemorySegment lostStub;

    /**
     * {@code perf_buffer__new(mapFd, pages, sample, lost, ctx, NULL)}: a ring per CPU of {@code pages}
     * pages (a power of 2), opened and mmapped by libbpf, whose records go to {@code sink} while
     * {@link #perfBufferPoll} runs. The ctx is a number naming the sink (the upcalls are shared).
     *
     * @return the perf buffer and its sink's number, for {@link #perfBufferFree}
     */
    static MemorySegment perfBufferNew(int mapFd, String map, long pages, PerfSink sink, long[] sinkId)
            throws BpfException {
        requireAvailable();
        MemorySegment[] stubs = perfStubs();
        long id = PERF_SINK_IDS.incrementAndGet();
        PERF_SINKS.put(id, sink);
        MemorySegment state = CALL_STATE.get();
        MemorySegment pb;
        LibBpfLog.capture();
        try {
            pb = (MemorySegment) PERF_BUFFER_NEW.invokeExact(state, mapFd, pages, stubs[0], stubs[1],
                    MemorySegment.ofAddress(id), MemorySegment.NULL);
        } catch (Throwable t) {
            LibBpfLog.take();
            PERF_SINKS.remove(id);
            throw Libc.rethrow(t);
        }
        String log = LibBpfLog.take();
        if (pb.equals(MemorySegment.NULL)) {
            PERF_SINKS.remove(id);
            throw failure("perf_buffer__new(" + map + ")", -errno(state), logDetail(log));
        }
        sinkId[0] = id;
        return pb;
    }

    /** {@code perf_buffer__poll(pb, timeoutMs)}: records consumed, or {@code -errno} (-EINTR is harmless). */
    static int perfBufferPoll(MemorySegment pb, int timeoutMs) {
        try {
            return (int) PERF_BUFFER_POLL.invokeExact(pb, timeoutMs);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- ring buffers

    /**
     * {@code ring_buffer__new(mapFd, sampleFn, ctx, NULL)}: reads a {@code BPF_MAP_TYPE_RINGBUF}
     * map; {@code sampleFn} (an upcall stub that lives as long as the ring buffer) gets each record
     * with {@code ctx}. Never NULL.
     */
    static MemorySegment ringBufferNew(int mapFd, String name, MemorySegment sampleFn, MemorySegment ctx)
            throws BpfException {
        requireAvailable();
        if (RING_BUFFER_NEW == null) {
            throw new BpfException("this libbpf has no ring_buffer__new (libbpf 0.1+)");
        }
        MemorySegment state = CALL_STATE.get();
        MemorySegment rb;
        try {
            rb = (MemorySegment) RING_BUFFER_NEW.invokeExact(state, mapFd, sampleFn, ctx, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rb.equals(MemorySegment.NULL)) {
            throw failure("ring_buffer__new(" + name + ")", -errno(state));
        }
        return rb;
    }

    /** {@code ring_buffer__consume(rb)}: the records handled (their callbacks ran on this thread), or {@code -errno}. */
    static int ringBufferConsume(MemorySegment rb) {
        try {
            return (int) RING_BUFFER_CONSUME.invokeExact(rb);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code perf_buffer__free(pb)}: unmaps and closes the rings; never while it is polled. */
    static void perfBufferFree(MemorySegment pb, long sinkId) {
        try {
            PERF_BUFFER_FREE.invokeExact(pb);
        } catch (Throwable t) {
            // the fds go with the process at the latest
        } finally {
            PERF_SINKS.remove(sinkId);
        }
    }

    private static synchronized MemorySegment[] perfStubs() {
        if (sampleStub == null) {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                sampleStub = LINKER.upcallStub(lookup.findStatic(LibBpf.class, "perfSample", MethodType.methodType(
                                void.class, MemorySegment.class, int.class, MemorySegment.class, int.class)),
                        FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, JAVA_INT), Arena.global());
                lostStub = LINKER.upcallStub(lookup.findStatic(LibBpf.class, "perfLost", MethodType.methodType(
                                void.class, MemorySegment.class, int.class, long.class)),
                        FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_LONG), Arena.global());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return new MemorySegment[] {sampleStub, lostStub};
    }

    /** The upcall {@code void (*perf_buffer_sample_fn)(void *ctx, int cpu, void *data, __u32 size)}. */
    private static void perfSample(MemorySegment ctx, int cpu, MemorySegment data, int size) {
        try {
            PerfSink sink = PERF_SINKS.get(ctx.address());
            if (sink != null) {
                sink.sample(cpu, data.reinterpret(Integer.toUnsignedLong(size)));
            }
        } catch (Throwable t) {
            // never let anything escape into native code
        }
    }

    /** The upcall {@code void (*perf_buffer_lost_fn)(void *ctx, int cpu, __u64 cnt)}. */
    private static void perfLost(MemorySegment ctx, int cpu, long count) {
        try {
            PerfSink sink = PERF_SINKS.get(ctx.address());
            if (sink != null) {
                sink.lost(cpu, count);
            }
        } catch (Throwable t) {
            // never let anything escape into native code
        }
    }

    /** {@code ring_buffer__epoll_fd(rb)}: an fd readable when records wait; the ring buffer owns it. */
    static int ringBufferEpollFd(MemorySegment rb) {
        try {
            return (int) RING_BUFFER_EPOLL_FD.invokeExact(rb);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code ring_buffer__free(rb)}; never throws. */
    static void ringBufferFree(MemorySegment rb) {
        try {
            RING_BUFFER_FREE.invokeExact(rb);
        } catch (Throwable t) {
            // freeing cannot be retried
        }
    }

    /** An upcall stub in {@link Arena#global()}: for a callback libbpf may keep (a ring buffer's sample function). */
    static MemorySegment upcallStub(MethodHandle target, FunctionDescriptor descriptor) {
        return LINKER.upcallStub(target, descriptor, Arena.global());
    }

    // ---------------------------------------------------------------- libbpf's messages

    /** Receives libbpf's messages, formatted; called on whatever thread libbpf prints from. */
    interface Printer {
        /** @param level {@link #LIBBPF_WARN}, {@link #LIBBPF_INFO} or debug */
        void print(int level, String message);
    }

    private static volatile Printer printer;

    /**
     * {@code libbpf_set_print}: routes libbpf's messages to {@code target} through an upcall whose
     * stub lives in {@link Arena#global()} (libbpf keeps the pointer forever) and never throws (an
     * exception escaping an upcall would crash the JVM). Once per JVM.
     *
     * @return false when libbpf is missing or the upcall cannot be made
     */
    static synchronized boolean setPrint(Printer target) {
        if (!available() || SET_PRINT == null) {
            return false;
        }
        boolean first = printer == null;
        printer = target;
        if (!first) {
            return true;
        }
        try {
            MethodHandle upcall = MethodHandles.lookup().findStatic(LibBpf.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = LINKER.upcallStub(upcall,
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            MemorySegment previous = (MemorySegment) SET_PRINT.invokeExact(stub); // libbpf's stderr printer
            return true;
        } catch (Throwable t) {
            printer = null;
            return false;
        }
    }

    /** The upcall: {@code int (*)(enum libbpf_print_level level, const char *fmt, va_list ap)}. */
    private static int print(int level, MemorySegment format, MemorySegment vaList) {
        try {
            String message = format(format, vaList);
            Printer p = printer;
            if (message == null || p == null) {
                return 0;
            }
            p.print(level, message);
            return message.length();
        } catch (Throwable t) {
            return 0; // never let anything escape into native code
        }
    }

    private static final int FIRST_BUFFER = 4096;
    private static final int MAX_MESSAGE = 1 << 20;

    /** printf's {@code format} with the arguments of {@code vaList}, or null. */
    private static String format(MemorySegment format, MemorySegment vaList) {
        int vaListSize = Arch.current().vaListSize;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fmt = format.reinterpret(Long.MAX_VALUE);
            MemorySegment ap = vaList.reinterpret(vaListSize);
            // vsnprintf consumes the va_list in place: keep a copy (what va_copy does on both ABIs) for a retry.
            MemorySegment copy = arena.allocate(vaListSize, 8).copyFrom(ap);
            MemorySegment buf = arena.allocate(FIRST_BUFFER);
            int n = Libc.vsnprintf(buf, fmt, ap);
            if (n < 0) {
                return null;
            }
            if (n >= FIRST_BUFFER) {
                buf = arena.allocate(Math.min(n + 1, MAX_MESSAGE));
                if (Libc.vsnprintf(buf, fmt, copy) < 0) {
                    return null;
                }
            }
            return buf.getString(0);
        }
    }

    // ---------------------------------------------------------------- binding

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static MethodHandle plain(String name, FunctionDescriptor descriptor) {
        return LOOKUP == null ? null : LOOKUP.find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, descriptor))
                .orElse(null);
    }

    private static MethodHandle withErrno(String name, FunctionDescriptor descriptor) {
        return LOOKUP == null ? null : LOOKUP.find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO))
                .orElse(null);
    }
}
