package io.cgscope.fanotify;

import io.cgscope.index.IndexHealth;
import io.cgscope.linux.Fd;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.Libc;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Stage 2 of the reader: the ids of a batch's CREATEs, found by listing each parent directory
 * once rather than looking up each name ({@link ChildLookup}, in stage 3, answers the rest).
 *
 * <p>Why: a CREATE on cgroupfs carries no id of the child, so each costs a path lookup, and the
 * lookup of a name just created or removed misses the dentry cache and waits for the parent's
 * inode lock, which every mkdir and rmdir in that directory holds: 5.3 us per lookup under full
 * churn, 72 % of the reader's CPU (exporter/KERNEL.md). One {@code getdents64} of the parent
 * answers all of a batch's names in it for 7-8.5 us (20 entries): bursts of cgroups in one
 * directory (a job's tasks, a node starting pods, churn) cost one listing per batch.
 *
 * <p>The answer is the one each lookup would have given: every mkdir behind a batch's events
 * happened before the batch was read, so a child the listing does not show was removed again
 * (its DELETE brings its id), and one it shows has the id the lookup would have found.
 *
 * <p>Only where it pays: at least {@value #MIN_CREATES} CREATEs in the parent, and a parent whose
 * last listing had at most {@value #ENTRIES_PER_CREATE} entries per CREATE of the batch (a
 * directory of 20,000 live children is not listed for a few names; a listing reads at most that
 * much, and a directory found bigger is tried again only every {@value #RETRY_BIG_AFTER} batches).
 * The parents' directory fds stay open ({@link ParentDirs}), so a listing is {@code lseek} plus
 * one {@code getdents64}. Writer thread only.
 */
final class BatchListings {
    static final int MIN_CREATES = 2;
    static final int ENTRIES_PER_CREATE = 16;
    static final int RETRY_BIG_AFTER = 256;
    private static final int DT_DIR = 4;                  // <dirent.h>
    private static final int NAME_OFFSET = 19;            // offsetof(struct linux_dirent64, d_name)
    private static final int RECLEN_OFFSET = 16;          // offsetof(struct linux_dirent64, d_reclen)
    private static final int TYPE_OFFSET = 18;            // offsetof(struct linux_dirent64, d_type)
    /** The longest linux_dirent64 (NAME_MAX 255, NUL, 8-byte aligned): room for it means the listing ended. */
    private static final int MAX_RECORD = 280;
    /** Bytes a listing may read per CREATE (16 entries of about 32 bytes, with room to spare). */
    private static final int BYTES_PER_CREATE = ENTRIES_PER_CREATE * 40;
    private static final int LISTING_BUFFER = 64 * 1024;

    private final ParentDirs dirs;
    private final IndexHealth health;
    private final MemorySegment listing;
    private final Groups groups = new Groups();

    BatchListings(ParentDirs dirs, IndexHealth health, Arena arena) {
        this.dirs = dirs;
        this.health = health;
        this.listing = arena.allocate(LISTING_BUFFER, 8);
    }

    /** Answers the batch's CREATEs by listing each parent that has enough of them, where that pays. */
    void resolve(EventBatch batch) {
        if (!groups.collect(batch)) {
            return;
        }
        for (int g = 0; g < groups.parents.length; g++) {
            if (groups.parents[g] != 0 && groups.sizes[g] >= MIN_CREATES) {
                list(batch, groups.parents[g], groups.heads[g], groups.sizes[g]);
            }
        }
    }

    /** Lists {@code parent} once and answers its group's CREATEs from it. */
    private void list(EventBatch batch, long parent, int head, int creates) {
        Fd dir = dirs.toList(parent, creates * ENTRIES_PER_CREATE, RETRY_BIG_AFTER);
        if (dir == null) {
            return;
        }
        long limit = Math.min(LISTING_BUFFER, (long) creates * BYTES_PER_CREATE + MAX_RECORD);
        long n;
        try {
            Libc.rewind(dir);
            n = Libc.getdents64(dir, listing.asSlice(0, limit));
        } catch (SyscallException e) {
            dirs.failed(parent); // the lookups answer instead
            return;
        }
        boolean complete = n <= limit - MAX_RECORD; // the kernel stops early only when the next entry does not fit
        int mask = groups.indexNames(batch, head, creates);
        int entries = 0;
        for (long off = 0; off < n; entries++) {
            int reclen = Short.toUnsignedInt(listing.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + RECLEN_OFFSET));
            if (listing.get(ValueLayout.JAVA_BYTE, off + TYPE_OFFSET) == DT_DIR) {
                match(batch, off, mask);
            }
            off += reclen;
        }
        dirs.listed(parent, complete ? entries : Integer.MAX_VALUE);
        if (complete) {
            for (int c = head; c >= 0; c = groups.next[c]) {
                int row = groups.rows[c];
                if (!batch.isListed(row)) {
                    batch.listed(row, FileHandles.NO_ID); // removed again since its CREATE: its DELETE brings the id
                }
            }
            health.add(IndexHealth.Counter.CHILD_IDS_LISTED, creates);
        }
    }

    /** Gives the directory entry at {@code off} as the id of every CREATE of the group with its name. */
    private void match(EventBatch batch, long off, int mask) {
        long nameStart = off + NAME_OFFSET;
        int length = 0;
        while (listing.get(ValueLayout.JAVA_BYTE, nameStart + length) != 0) {
            length++;
        }
        int h = hash(listing, nameStart, length);
        MemorySegment names = batch.buffer();
        for (int s = h & mask; groups.nameSlots[s] != 0; s = (s + 1) & mask) {
            int c = groups.nameSlots[s] - 1;
            int row = groups.rows[c];
            long at = batch.nameOffset(row);
            if (groups.hashes[c] == h && batch.nameLength(row) == length
                    && MemorySegment.mismatch(names, at, at + length, listing, nameStart, nameStart + length) < 0) {
                batch.listed(row, listing.get(ValueLayout.JAVA_LONG_UNALIGNED, off)); // d_ino: the kernfs id
            }
        }
    }

    private static int hash(MemorySegment segment, long offset, int length) {
        int h = 1;
        for (int i = 0; i < length; i++) {
            h = 31 * h + segment.get(ValueLayout.JAVA_BYTE, offset + i);
        }
        return h;
    }

    private static int tableSize(int n) {
        return Math.max(16, Integer.highestOneBit(n * 2 - 1) << 1);
    }

    /**
     * A batch's CREATEs that need a child id, grouped by parent: each a row of the batch, chained
     * to the next of the same parent; an open-addressing table from parent id to its chain's head
     * and length; and, for one group at a time, a table of its names by hash. Arrays grow to the
     * largest batch and are reused.
     */
    private static final class Groups {
        /** Per CREATE c (in batch order): its row in the batch, the next CREATE of its parent (-1: none), its name's hash. */
        int[] rows = new int[64];
        int[] next = new int[64];
        int[] hashes = new int[64];
        /** Per group slot: the parent (0: free), its last CREATE (the chain's head), how many. */
        long[] parents = new long[128];
        int[] heads = new int[128];
        int[] sizes = new int[128];
        /** One group's names, by hash: slots hold a CREATE's index + 1. */
        int[] nameSlots = new int[128];

        /** Collects and groups the batch's CREATEs; false when there are too few to list for. */
        boolean collect(EventBatch batch) {
            int count = 0;
            for (int row = 0; row < batch.size(); row++) {
                if (batch.needsChildId(row)) {
                    if (count == rows.length) {
                        rows = Arrays.copyOf(rows, count * 2);
                        next = Arrays.copyOf(next, count * 2);
                        hashes = Arrays.copyOf(hashes, count * 2);
                    }
                    rows[count++] = row;
                }
            }
            if (count < MIN_CREATES) {
                return false;
            }
            int size = tableSize(count);
            if (parents.length != size) {
                parents = new long[size];
                heads = new int[size];
                sizes = new int[size];
            } else {
                Arrays.fill(parents, 0);
            }
            int mask = size - 1;
            for (int c = 0; c < count; c++) {
                long parent = batch.dirId(rows[c]);
                long h = parent * 0x9E3779B97F4A7C15L;
                int g = (int) (h ^ (h >>> 32)) & mask;
                while (parents[g] != 0 && parents[g] != parent) {
                    g = (g + 1) & mask;
                }
                if (parents[g] == 0) {
                    parents[g] = parent;
                    sizes[g] = 0;
                    next[c] = -1;
                } else {
                    next[c] = heads[g];
                }
                heads[g] = c;
                sizes[g]++;
            }
            return true;
        }

        /** Puts one group's names into {@link #nameSlots} (hashing them now); returns the table's mask. */
        int indexNames(EventBatch batch, int head, int creates) {
            int size = tableSize(creates);
            if (nameSlots.length < size) {
                nameSlots = new int[size];
            }
            Arrays.fill(nameSlots, 0, size, 0);
            int mask = size - 1;
            MemorySegment names = batch.buffer();
            for (int c = head; c >= 0; c = next[c]) {
                int row = rows[c];
                hashes[c] = hash(names, batch.nameOffset(row), batch.nameLength(row));
                int s = hashes[c] & mask;
                while (nameSlots[s] != 0) {
                    s = (s + 1) & mask;
                }
                nameSlots[s] = c + 1;
            }
            return mask;
        }
    }
}
