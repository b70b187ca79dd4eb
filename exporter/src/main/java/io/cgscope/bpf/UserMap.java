package io.cgscope.bpf;

import io.cgscope.linux.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A map of a loaded user object, read whole into a {@link RawTable} at each scrape:
 * {@code BPF_MAP_LOOKUP_BATCH} for the types whose kernel side has it (hash, LRU hash, array and
 * their per-CPU forms), and where the kernel refuses it on the first call, get-next-key plus one
 * lookup per key. Values are u64 (ebpf_exporter's format allows nothing else); a per-CPU map's
 * values are summed over the CPUs, or kept apart for a {@code cpu} label. Entries can be
 * deleted (the metrics fold a removed cgroup's counts and delete its keys, as for cgscope's own
 * maps). The native buffers are allocated at the first read and reused; one thread at a time.
 */
public final class UserMap implements AutoCloseable {
    /** {@code enum bpf_map_type} ({@code <linux/bpf.h>}). */
    public static final int HASH = 1;
    public static final int ARRAY = 2;
    public static final int PERF_EVENT_ARRAY = 4;
    public static final int PERCPU_HASH = 5;
    public static final int PERCPU_ARRAY = 6;
    public static final int LRU_HASH = 9;
    public static final int LRU_PERCPU_HASH = 10;
    private static final int BATCH = 1024;

    private final String name;
    private final int fd;
    private final int type;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;
    private final int cpus;
    private Arena arena;
    private MemorySegment keys;
    private MemorySegment values;
    private MemorySegment inBatch;
    private MemorySegment outBatch;
    private MemorySegment count;
    private MemorySegment key;
    private MemorySegment nextKey;
    private int batch;
    private byte[] keyBytes;
    private long[] valueWords;
    private boolean batchRefused;

    UserMap(String name, int fd, int type, int keySize, int valueSize, int maxEntries, int cpus) {
        this.name = name;
        this.fd = fd;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
        this.cpus = cpus;
    }

    public String name() {
        return name;
    }

    /** {@code enum bpf_map_type}. */
    public int type() {
        return type;
    }

    public int keySize() {
        return keySize;
    }

    public int valueSize() {
        return valueSize;
    }

    public int maxEntries() {
        return maxEntries;
    }

    /** Whether each key has a value per possible CPU. */
    public boolean perCpu() {
        return type == PERCPU_HASH || type == PERCPU_ARRAY || type == LRU_PERCPU_HASH;
    }

    /** Possible CPUs: the values a per-CPU entry has. */
    public int cpus() {
        return cpus;
    }

    /** Whether {@link #read} can read this type of map. */
    public boolean readable() {
        return type == HASH || type == ARRAY || type == LRU_HASH || perCpu();
    }

    /** Whether entries can be deleted (not from arrays: their entries always exist). */
    public boolean deletable() {
        return type == HASH || type == LRU_HASH || type == PERCPU_HASH || type == LRU_PERCPU_HASH;
    }

    /** The type's name for messages, as {@code bpftool} says it. */
    public static String typeName(int type) {
        return switch (type) {
            case HASH -> "hash";
            case ARRAY -> "array";
            case PERF_EVENT_ARRAY -> "perf_event_array";
            case PERCPU_HASH -> "percpu_hash";
            case PERCPU_ARRAY -> "percpu_array";
            case LRU_HASH -> "lru_hash";
            case LRU_PERCPU_HASH -> "lru_percpu_hash";
            case 27 -> "ringbuf";
            default -> "type " + type;
        };
    }

    /**
     * Replaces the table's rows with the map's entries. The map's values must be u64.
     *
     * @param splitCpus per-CPU maps: one value per CPU per row instead of their sum
     */
    public void read(RawTable into, boolean splitCpus) throws BpfException {
        if (!readable() || valueSize != 8) {
            throw new BpfException("map " + name + " (" + typeName(type) + ", " + valueSize
                    + "-byte values) cannot be read as u64 counters");
        }
        allocate();
        into.reset(keySize, perCpu() && splitCpus ? cpus : 1);
        if (!batchRefused && readBatched(into)) {
            return;
        }
        into.reset(keySize, perCpu() && splitCpus ? cpus : 1);
        readByKey(into);
    }

    private void allocate() {
        if (arena != null) {
            return;
        }
        arena = Arena.ofShared();
        batch = Math.max(1, Math.min(BATCH, maxEntries));
        int perValue = perCpu() ? 8 * cpus : 8;
        // The batch token is a u32 bucket index for hash maps and a key for arrays: room for either.
        int token = Math.max(8, keySize);
        keys = arena.allocate((long) keySize * batch, 8);
        values = arena.allocate((long) perValue * batch, 8);
        inBatch = arena.allocate(token, 8);
        outBatch = arena.allocate(token, 8);
        count = arena.allocate(4, 4);
        key = arena.allocate(Math.max(keySize, 1), 8);
        nextKey = arena.allocate(Math.max(keySize, 1), 8);
        keyBytes = new byte[keySize * batch];
        valueWords = new long[perValue / 8 * batch];
    }

    /** @return false when the kernel refused batch lookups at the first call (then nothing was read) */
    private boolean readBatched(RawTable into) throws BpfException {
        boolean first = true;
        MemorySegment in = MemorySegment.NULL;
        int perRow = perCpu() ? cpus : 1;
        while (true) {
            count.set(ValueLayout.JAVA_INT, 0, batch);
            int rc = LibBpf.mapLookupBatch(fd, in, outBatch, keys, values, count);
            if (rc < 0 && rc != -Errno.ENOENT) {
                if (first && (rc == -Errno.EINVAL || rc == -Errno.EOPNOTSUPP || rc == -Errno.ENOTSUPP)) {
                    batchRefused = true;
                    return false;
                }
                throw LibBpf.failure("bpf_map_lookup_batch(" + name + ")", rc);
            }
            int n = count.get(ValueLayout.JAVA_INT, 0);
            MemorySegment.copy(keys, ValueLayout.JAVA_BYTE, 0, keyBytes, 0, n * keySize);
            MemorySegment.copy(values, ValueLayout.JAVA_LONG, 0, valueWords, 0, n * perRow);
            for (int i = 0; i < n; i++) {
                addRow(into, keyBytes, i * keySize, valueWords, i * perRow, perRow);
            }
            if (rc == -Errno.ENOENT) {
                return true;
            }
            MemorySegment.copy(outBatch, 0, inBatch, 0, inBatch.byteSize());
            in = inBatch;
            first = false;
        }
    }

    private void readByKey(RawTable into) throws BpfException {
        MemorySegment prev = MemorySegment.NULL;
        int perRow = perCpu() ? cpus : 1;
        byte[] k = new byte[keySize];
        long[] v = new long[perRow];
        long guard = 0;
        while (true) {
            int rc = LibBpf.mapGetNextKey(fd, prev, nextKey);
            if (rc == -Errno.ENOENT) {
                return;
            }
            if (rc < 0) {
                throw LibBpf.failure("bpf_map_get_next_key(" + name + ")", rc);
            }
            MemorySegment.copy(nextKey, 0, key, 0, keySize);
            prev = key;
            rc = LibBpf.mapLookupElem(fd, key, values);
            if (rc == 0) {
                MemorySegment.copy(key, ValueLayout.JAVA_BYTE, 0, k, 0, keySize);
                MemorySegment.copy(values, ValueLayout.JAVA_LONG, 0, v, 0, perRow);
                addRow(into, k, 0, v, 0, perRow);
            } else if (rc != -Errno.ENOENT) {
                throw LibBpf.failure("bpf_map_lookup_elem(" + name + ")", rc);
            }
            if (++guard > 4L * maxEntries + 16) {
                return; // a key deleted under us restarts get_next_key from the beginning: never loop forever
            }
        }
    }

    /** One entry: its {@code srcPerRow} values (one per CPU, or one) summed, or kept apart when the table wants that. */
    private static void addRow(RawTable into, byte[] k, int koff, long[] v, int voff, int srcPerRow) {
        int row = into.append(k, koff);
        if (into.valuesPerRow() == 1) {
            long sum = 0;
            for (int c = 0; c < srcPerRow; c++) {
                sum += v[voff + c];
            }
            into.add(row, 0, sum);
            return;
        }
        for (int c = 0; c < srcPerRow; c++) {
            into.add(row, c, v[voff + c]);
        }
    }

    /**
     * Deletes one entry.
     *
     * @return true when it was there
     */
    public boolean delete(byte[] keyBytes) throws BpfException {
        allocate();
        MemorySegment.copy(keyBytes, 0, key, ValueLayout.JAVA_BYTE, 0, keySize);
        int rc = LibBpf.mapDeleteElem(fd, key);
        if (rc < 0 && rc != -Errno.ENOENT) {
            throw LibBpf.failure("bpf_map_delete_elem(" + name + ")", rc);
        }
        return rc == 0;
    }

    /** Writes one entry, its value on every CPU (tests and benchmarks: a map filled without events). */
    public void put(byte[] keyBytes, long value) throws BpfException {
        allocate();
        MemorySegment.copy(keyBytes, 0, key, ValueLayout.JAVA_BYTE, 0, keySize);
        int perRow = perCpu() ? cpus : 1;
        for (int c = 0; c < perRow; c++) {
            values.set(ValueLayout.JAVA_LONG, 8L * c, value);
        }
        int rc = LibBpf.mapUpdateElem(fd, key, values, LibBpf.BPF_ANY);
        if (rc < 0) {
            throw LibBpf.failure("bpf_map_update_elem(" + name + ")", rc);
        }
    }

    /** Whether reads use BPF_MAP_LOOKUP_BATCH (false after the kernel refused it). */
    public boolean batched() {
        return !batchRefused;
    }

    int fd() {
        return fd;
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
