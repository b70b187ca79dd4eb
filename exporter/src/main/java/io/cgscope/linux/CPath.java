package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A path as the system calls take it, NUL-terminated in native memory: allocated once and
 * refilled per call, since the reader passes a path per CREATE and must not allocate for it.
 * Paths are raw bytes (cgroup names need not be UTF-8). One owner thread.
 */
public final class CPath {
    /** The longest path this holds: {@code PATH_MAX} of {@code <linux/limits.h>}. */
    public static final int PATH_MAX = 4096;
    private static final byte[] DOT = {'.'};

    private final MemorySegment bytes;
    private int length;

    public CPath(Arena arena) {
        this.bytes = arena.allocate(PATH_MAX + 1);
    }

    /** Whether {@code dir/name} (as {@link #of(byte[], byte[])} joins them) fits. */
    public static boolean fits(byte[] dir, byte[] name) {
        return length(dir, name) <= PATH_MAX;
    }

    /** The length of {@code dir/name} as {@link #of(byte[], byte[])} joins them, without the NUL. */
    public static int length(byte[] dir, byte[] name) {
        if (name == null) {
            return Math.max(1, dir.length);
        }
        return dir.length + (dir.length > 0 ? 1 : 0) + name.length;
    }

    /**
     * {@code path}, or {@code "."} (the directory itself) when it is empty.
     *
     * @throws IllegalArgumentException when it is longer than {@link #PATH_MAX}
     */
    public MemorySegment of(byte[] path) {
        return of(path, null);
    }

    /**
     * {@code dir/name}, or just {@code name} when {@code dir} is empty; {@code dir} alone (or
     * {@code "."}) when {@code name} is null.
     *
     * @throws IllegalArgumentException when the result is longer than {@link #PATH_MAX}
     */
    public MemorySegment of(byte[] dir, byte[] name) {
        if (dir.length == 0 && name == null) {
            dir = DOT;
        }
        int sep = dir.length > 0 && name != null ? 1 : 0;
        int n = length(dir, name);
        if (n > PATH_MAX) {
            throw new IllegalArgumentException("path of " + n + " bytes is longer than PATH_MAX");
        }
        MemorySegment.copy(dir, 0, bytes, ValueLayout.JAVA_BYTE, 0, dir.length);
        if (sep == 1) {
            bytes.set(ValueLayout.JAVA_BYTE, dir.length, (byte) '/');
        }
        if (name != null) {
            MemorySegment.copy(name, 0, bytes, ValueLayout.JAVA_BYTE, dir.length + sep, name.length);
        }
        bytes.set(ValueLayout.JAVA_BYTE, n, (byte) 0);
        length = n;
        return bytes;
    }

    /** The path last set, for messages (bad UTF-8 replaced). */
    @Override
    public String toString() {
        return new String(bytes.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
