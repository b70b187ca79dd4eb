package io.cgscope.programs;

/**
 * One key of a user map as {@link UserMetric} knows it from scrape to scrape: the key's bytes,
 * what its labels decoded to, its cgroup ids' states, and what it was counted as last time.
 */
final class KeyState {
    /** The key as decoded: the map's key, with the CPU appended for a per-CPU map by cpu. */
    final byte[] key;
    /** {@link KeyTable#hash} of {@link #key}. */
    final int hash;
    /** The map's key (to delete the entry). */
    final byte[] mapKey;
    final KeyDecoder.Decoded decoded;
    /** A histogram row's slot ({@link Buckets}), -1 when its bucket is outside them; 0 for a counter. */
    final int slot;
    /** Its cgroup ids' states, kept so that naming them again is no lookup. */
    final CgroupNamer.Id[] ids;
    /** The series it was counted in at the last scrape (null: not counted). */
    LabelSet counted;
    /** That series has {@code /unknown} for one of its ids. */
    boolean countedUnknown;
    /** Counted elsewhere already (in {@code /unknown}'s total). */
    long baseline;
    /** The last scrape that read it. */
    long epoch;

    private static final CgroupNamer.Id[] NONE = new CgroupNamer.Id[0];

    KeyState(byte[] key, int hash, byte[] mapKey, KeyDecoder.Decoded decoded, int slot) {
        this.key = key;
        this.hash = hash;
        this.mapKey = mapKey;
        this.decoded = decoded;
        this.slot = slot;
        int n = decoded.ids == null ? 0 : decoded.ids.length;
        this.ids = n == 0 ? NONE : new CgroupNamer.Id[n];
    }
}
