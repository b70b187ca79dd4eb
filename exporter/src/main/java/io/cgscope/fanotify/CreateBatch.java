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
import java.util.function.LongFunction;

/**
 * The ids of one read batch's CREATEs, found by listing each parent directory once rather than
 * looking up each name.
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
 * The parents' directory fds stay open in a small cache, so a listing is {@code lseek} plus one
 * {@code getdents64}; a parent's fd is closed when the parent is deleted.
 *
 * <p>Use: {@link #prepare} before the buffer's events are applied, then {@link #take} for each
 * CREATE that needs its child's id, in the same order. Writer thread only.
 */
final class CreateBatch {
    /** {@link #take}: the listing did not answer, look the name up. */
    static final long NOT_LISTED = 0;
    static final int MIN_CREATES = 2;
    static final int ENTRIES_PER_CREATE = 16;
    static final int RETRY_BIG_AFTER = 256;
    private static final int DIRS = 16;
    private static final int DT_DIR = 4;                  // <dirent.h>
    private static final int NAME_OFFSET = 19;            // offsetof(struct linux_dirent64, d_name)
    /** The longest linux_dirent64 (NAME_MAX 255, NUL, 8-byte aligned): room for it means the listing ended. */
    private static final int MAX_RECORD = 280;
    /** Bytes a listing may read per CREATE (16 entries of about 32 bytes, with room to spare). */
    private static final int BYTES_PER_CREATE = ENTRIES_PER_CREATE * 40;
    private static final int LISTING_BUFFER = 64 * 1024;

    private final LongFunction<Fd> openDirectory;
    private final IndexHealth health;
    private final EventParser parser;
    private final MemorySegment listing;

    // This batch's CREATEs that need a child id, in parse order.
    private MemorySegment source = MemorySegment.NULL;
    private int count;
    private int cursor;
    private long[] parents = new long[64];
    private long[] nameOffsets = new long[64];
    private int[] nameLengths = new int[64];
    private int[] nameHashes = new int[64];
    private long[] ids = new long[64];
    /** The next CREATE of the same parent (grouping), -1 at the end. */
    private int[] sameParent = new int[64];
    // Grouping by parent: open addressing, parent id -> first CREATE and count.
    private long[] groupParents = new long[128];
    private int[] groupHeads = new int[128];
    private int[] groupSizes = new int[128];
    // One group's names, for matching directory entries: slots hold a CREATE's index + 1.
    private int[] nameSlots = new int[128];

    // Parents' open directories, direct-mapped by id.
    private final long[] dirIds = new long[DIRS];
    private final Fd[] dirFds = new Fd[DIRS];
    /** Entries of the last listing; -1 unknown, {@code Integer.MAX_VALUE} when it was cut short. */
    private final int[] dirEntries = new int[DIRS];
    private final int[] dirSkips = new int[DIRS];


    private final EventParser.Sink collector = new EventParser.Sink() {
        @Override
        public void event(FanotifyEvent e) {
            if (EventApplier.needsChildId(e)) {
                add(e);
            }
        }

        @Override
        public void malformed(String why) {
            // the applier's pass over the same buffer reports it
        }
    };

    /**
     * @param openDirectory opens a cgroup's directory by id for reading, or answers null (gone, not allowed)
     */
    CreateBatch(LongFunction<Fd> openDirectory, EventParser parser, IndexHealth health, Arena arena) {
        this.openDirectory = openDirectory;
        this.health = health;
        this.parser = parser;
        this.listing = arena.allocate(LISTING_BUFFER, 8);
        Arrays.fill(dirEntries, -1);
    }

    /** Collects the CREATEs of {@code buf} and lists the parents where that pays. */
    void prepare(MemorySegment buf, long length) {
        source = buf;
        count = 0;
        cursor = 0;
        parser.parse(buf, length, Fanotify.FAN_CREATE, collector); // the DELETEs wait for the applier's pass
        if (count < MIN_CREATES) {
            return;
        }
        group();
        for (int g = 0; g < groupParents.length; g++) {
            if (groupParents[g] != 0 && groupSizes[g] >= MIN_CREATES) {
                list(groupParents[g], groupHeads[g], groupSizes[g]);
            }
        }
    }

    /**
     * The answer for the next CREATE: its child's id, {@link FileHandles#GONE}, or {@link #NOT_LISTED}.
     * Called once per CREATE that needs an id, in parse order.
     */
    long take(long parentId, int nameLength) {
        if (cursor >= count) {
            return NOT_LISTED;
        }
        int i = cursor++;
        if (parents[i] != parentId || nameLengths[i] != nameLength) {
            cursor = count; // out of step (cannot happen while both passes share one predicate): look up the rest
            return NOT_LISTED;
        }
        return ids[i];
    }

    /**
     * The parent's directory if a listing left it open, else null: a lookup relative to it walks
     * one path component instead of the parent's whole path (a directory too big to list for a
     * few names, such as a slice of thousands of units, is opened once and kept for this).
     */
    Fd openDirectory(long parentId) {
        int slot = dirSlot(parentId);
        return dirIds[slot] == parentId ? dirFds[slot] : null;
    }

    /** The parent was deleted: close its directory, if open. */
    void forget(long parentId) {
        int slot = dirSlot(parentId);
        if (dirIds[slot] == parentId) {
            closeDir(slot);
        }
    }

    void close() {
        for (int slot = 0; slot < DIRS; slot++) {
            closeDir(slot);
        }
    }

    private void add(FanotifyEvent e) {
        if (count == parents.length) {
            int n = count * 2;
            parents = Arrays.copyOf(parents, n);
            nameOffsets = Arrays.copyOf(nameOffsets, n);
            nameLengths = Arrays.copyOf(nameLengths, n);
            nameHashes = Arrays.copyOf(nameHashes, n);
            ids = Arrays.copyOf(ids, n);
            sameParent = Arrays.copyOf(sameParent, n);
        }
        parents[count] = e.dirId();
        nameOffsets[count] = e.nameOffset();
        nameLengths[count] = e.nameLength();
        nameHashes[count] = hash(e.nameSource(), e.nameOffset(), e.nameLength());
        ids[count] = NOT_LISTED;
        count++;
    }

    private void group() {
        int size = tableSize(count);
        if (groupParents.length != size) {
            groupParents = new long[size];
            groupHeads = new int[size];
            groupSizes = new int[size];
        } else {
            Arrays.fill(groupParents, 0);
        }
        int mask = size - 1;
        for (int i = 0; i < count; i++) {
            long parent = parents[i];
            int g = mix(parent) & mask;
            while (groupParents[g] != 0 && groupParents[g] != parent) {
                g = (g + 1) & mask;
            }
            if (groupParents[g] == 0) {
                groupParents[g] = parent;
                groupSizes[g] = 0;
                sameParent[i] = -1;
            } else {
                sameParent[i] = groupHeads[g];
            }
            groupHeads[g] = i;
            groupSizes[g]++;
        }
    }

    /** Lists {@code parent} once and answers the group's CREATEs from it, where that pays. */
    private void list(long parent, int head, int creates) {
        int slot = dirSlot(parent);
        if (dirIds[slot] == parent && dirEntries[slot] > creates * ENTRIES_PER_CREATE) {
            if (++dirSkips[slot] < RETRY_BIG_AFTER) {
                return; // too big to list for this many names: look them up
            }
            dirSkips[slot] = 0;
        }
        Fd dir = open(parent, slot);
        if (dir == null) {
            return;
        }
        long limit = Math.min(LISTING_BUFFER, (long) creates * BYTES_PER_CREATE + MAX_RECORD);
        long n;
        try {
            Libc.rewind(dir);
            n = Libc.getdents64(dir, listing.asSlice(0, limit));
        } catch (SyscallException e) {
            closeDir(slot); // the lookups answer instead
            return;
        }
        boolean complete = n <= limit - MAX_RECORD; // the kernel stops early only when the next entry does not fit
        int mask = indexNames(head, creates);
        int entries = 0;
        for (long off = 0; off < n; entries++) {
            int reclen = Short.toUnsignedInt(listing.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 16));
            if (listing.get(ValueLayout.JAVA_BYTE, off + 18) == DT_DIR) {
                match(off, mask);
            }
            off += reclen;
        }
        dirEntries[slot] = complete ? entries : Integer.MAX_VALUE;
        if (complete) {
            for (int i = head; i >= 0; i = sameParent[i]) {
                if (ids[i] == NOT_LISTED) {
                    ids[i] = FileHandles.GONE; // removed again since its CREATE: its DELETE brings the id
                }
            }
            health.add(IndexHealth.Counter.CHILD_IDS_LISTED, creates);
        }
    }

    /** Puts the group's names into {@link #nameSlots}; returns the table's mask. */
    private int indexNames(int head, int creates) {
        int size = tableSize(creates);
        if (nameSlots.length < size) {
            nameSlots = new int[size];
        }
        Arrays.fill(nameSlots, 0, size, 0);
        int mask = size - 1;
        for (int i = head; i >= 0; i = sameParent[i]) {
            int s = nameHashes[i] & mask;
            while (nameSlots[s] != 0) {
                s = (s + 1) & mask;
            }
            nameSlots[s] = i + 1;
        }
        return mask;
    }

    /** Gives the directory entry at {@code off} as the id of every CREATE of the group with its name. */
    private void match(long off, int mask) {
        long nameStart = off + NAME_OFFSET;
        int length = 0;
        while (listing.get(ValueLayout.JAVA_BYTE, nameStart + length) != 0) {
            length++;
        }
        int h = hash(listing, nameStart, length);
        for (int s = h & mask; nameSlots[s] != 0; s = (s + 1) & mask) {
            int i = nameSlots[s] - 1;
            if (nameHashes[i] == h && nameLengths[i] == length && MemorySegment.mismatch(source, nameOffsets[i],
                    nameOffsets[i] + length, listing, nameStart, nameStart + length) < 0) {
                ids[i] = listing.get(ValueLayout.JAVA_LONG_UNALIGNED, off); // d_ino: the kernfs id
            }
        }
    }

    /** The parent's open directory (cached), or null when it cannot be opened (gone, not allowed). */
    private Fd open(long parent, int slot) {
        if (dirIds[slot] == parent && dirFds[slot] != null) {
            return dirFds[slot];
        }
        closeDir(slot);
        Fd dir = openDirectory.apply(parent);
        if (dir == null) {
            return null; // the lookups answer instead
        }
        dirIds[slot] = parent;
        dirFds[slot] = dir;
        dirEntries[slot] = -1;
        dirSkips[slot] = 0;
        return dir;
    }

    private void closeDir(int slot) {
        if (dirFds[slot] != null) {
            dirFds[slot].closeQuietly();
            dirFds[slot] = null;
        }
        dirIds[slot] = 0;
    }

    private static int dirSlot(long id) {
        return mix(id) & (DIRS - 1);
    }

    private static int mix(long id) {
        long h = id * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private static int tableSize(int n) {
        return Math.max(16, Integer.highestOneBit(n * 2 - 1) << 1);
    }

    private static int hash(MemorySegment segment, long offset, int length) {
        int h = 1;
        for (int i = 0; i < length; i++) {
            h = 31 * h + segment.get(ValueLayout.JAVA_BYTE, offset + i);
        }
        return h;
    }
}
