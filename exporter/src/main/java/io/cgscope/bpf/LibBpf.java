package io.cgscope.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libbpf functions cgscope calls, bound by hand with Panama FFM against Debian's
 * {@code libbpf.so.1} (1.1). The only class that links libbpf.
 *
 * <p>libbpf 1.x conventions: functions returning {@code int} return {@code -errno} on failure
 * (no errno read needed); functions returning a pointer return NULL and set errno, so those
 * handles capture errno. Every handle is {@code static final} and called with {@code invokeExact}.
 * When the library is missing every handle is null and {@link #unavailabilityCause()} says why.
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
    static final MethodHandle SET_PRINT = plain("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
    //                                         const struct bpf_object_open_opts *opts);  <bpf/libbpf.h>
    static final MethodHandle OBJECT_OPEN_MEM = withErrno("bpf_object__open_mem",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    // int bpf_object__load(struct bpf_object *obj);  <bpf/libbpf.h>
    static final MethodHandle OBJECT_LOAD = plain("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // void bpf_object__close(struct bpf_object *obj);  <bpf/libbpf.h>
    static final MethodHandle OBJECT_CLOSE = plain("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
    // struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name);
    static final MethodHandle FIND_PROGRAM = plain("bpf_object__find_program_by_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name);
    static final MethodHandle FIND_MAP = plain("bpf_object__find_map_by_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // int bpf_program__set_autoload(struct bpf_program *prog, bool autoload);  <bpf/libbpf.h>
    static final MethodHandle PROGRAM_SET_AUTOLOAD = plain("bpf_program__set_autoload",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BOOLEAN));
    // int bpf_program__fd(const struct bpf_program *prog);  <bpf/libbpf.h>
    static final MethodHandle PROGRAM_FD = plain("bpf_program__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // struct bpf_link *bpf_program__attach(const struct bpf_program *prog);  <bpf/libbpf.h>
    static final MethodHandle PROGRAM_ATTACH = withErrno("bpf_program__attach",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *prog, int pfd);
    static final MethodHandle PROGRAM_ATTACH_PERF_EVENT = withErrno("bpf_program__attach_perf_event",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    // int bpf_link__destroy(struct bpf_link *link);  <bpf/libbpf.h>
    static final MethodHandle LINK_DESTROY = plain("bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries);  <bpf/libbpf.h>
    static final MethodHandle MAP_SET_MAX_ENTRIES = plain("bpf_map__set_max_entries",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // const void *bpf_map__initial_value(struct bpf_map *map, size_t *psize);  <bpf/libbpf.h>
    // (before load: the writable image of a global data section such as .rodata)
    static final MethodHandle MAP_INITIAL_VALUE = plain("bpf_map__initial_value",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    // int bpf_map__fd(const struct bpf_map *map);  <bpf/libbpf.h>
    static final MethodHandle MAP_FD = plain("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // __u32 bpf_map__value_size(const struct bpf_map *map);  <bpf/libbpf.h>
    static final MethodHandle MAP_VALUE_SIZE = plain("bpf_map__value_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // __u32 bpf_map__max_entries(const struct bpf_map *map);  <bpf/libbpf.h>
    static final MethodHandle MAP_MAX_ENTRIES = plain("bpf_map__max_entries",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values,
    //                          __u32 *count, const struct bpf_map_batch_opts *opts);  <bpf/bpf.h>
    static final MethodHandle MAP_LOOKUP_BATCH = plain("bpf_map_lookup_batch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    // int bpf_map_get_next_key(int fd, const void *key, void *next_key);  <bpf/bpf.h>
    static final MethodHandle MAP_GET_NEXT_KEY = plain("bpf_map_get_next_key",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // int bpf_map_lookup_elem(int fd, const void *key, void *value);  <bpf/bpf.h>
    static final MethodHandle MAP_LOOKUP_ELEM = plain("bpf_map_lookup_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);  <bpf/bpf.h>
    static final MethodHandle MAP_UPDATE_ELEM = plain("bpf_map_update_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    // int bpf_map_delete_elem(int fd, const void *key);  <bpf/bpf.h>
    static final MethodHandle MAP_DELETE_ELEM = plain("bpf_map_delete_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    // int bpf_obj_get_info_by_fd(int bpf_fd, void *info, __u32 *info_len);  <bpf/bpf.h>
    static final MethodHandle OBJ_GET_INFO_BY_FD = plain("bpf_obj_get_info_by_fd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // int libbpf_num_possible_cpus(void);  <bpf/libbpf.h>
    static final MethodHandle NUM_POSSIBLE_CPUS = plain("libbpf_num_possible_cpus", FunctionDescriptor.of(JAVA_INT));
    // int libbpf_strerror(int err, char *buf, size_t size);  <bpf/libbpf.h>
    static final MethodHandle STRERROR = plain("libbpf_strerror",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));

    /** {@code BPF_ANY} for {@code bpf_map_update_elem} ({@code <linux/bpf.h>}). */
    static final long BPF_ANY = 0;
    /** {@code sizeof(struct bpf_map_batch_opts)} in libbpf 1.1: sz, elem_flags, flags. */
    static final long BATCH_OPTS_SIZE = 24;

    private LibBpf() {
    }

    /** Whether libbpf could be loaded. */
    static boolean available() {
        return LOOKUP != null;
    }

    /** Why libbpf is unavailable, or null. */
    static String unavailabilityCause() {
        return CAUSE;
    }

    static MemorySegment callState() {
        return CALL_STATE.get();
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** libbpf's text for an error ({@code -errno} or a libbpf error code), e.g. "Operation not permitted". */
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


    static Linker linker() {
        return LINKER;
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
