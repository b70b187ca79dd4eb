package io.cgscope.fanotify;

import io.cgscope.linux.FileHandles;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The events of one read of the fanotify fd, parsed once: the table the reader's three stages
 * share ({@link CgroupWatcher}: parse into it, answer CREATEs' child ids by listing, apply). One
 * row per event, in the order read, as six {@code long}s of one array (a row's columns are
 * below); names stay in the read buffer and are copied only when the index keeps one. Refilled
 * for every read: nothing is allocated per event. Writer thread only.
 */
final class EventBatch implements EventParser.Sink {
    // A row's columns.
    private static final int MASK = 0;
    private static final int DIR_ID = 1;
    private static final int OBJECT_ID = 2;
    /** Where the name is in the read buffer: offset in the high 32 bits, length (-1: none) in the low. */
    private static final int NAME = 3;
    /** The child's id that a directory listing gave (or {@link FileHandles#NO_ID}: listed and gone). */
    private static final int CHILD_ID = 4;
    private static final int FLAGS = 5;
    private static final int ROW = 6;
    // FLAGS bits.
    private static final long FOREIGN = 1;
    private static final long LISTED = 2;

    private final EventParser parser;
    private final Consumer<String> malformed;
    private long[] rows = new long[64 * ROW];
    private int size;
    private MemorySegment buffer = MemorySegment.NULL;

    /** @param malformed hears of records that cannot be read ({@link EventParser.Sink#malformed}) */
    EventBatch(EventParser parser, Consumer<String> malformed) {
        this.parser = parser;
        this.malformed = malformed;
    }

    /** Stage 1: the events of {@code buf[0, length)}, replacing the previous read's. */
    void parse(MemorySegment buf, long length) {
        buffer = buf;
        size = 0;
        parser.parse(buf, length, this);
    }

    @Override
    public void event(FanotifyEvent e) {
        int at = size * ROW;
        if (at == rows.length) {
            rows = Arrays.copyOf(rows, rows.length * 2);
        }
        rows[at + MASK] = e.mask();
        rows[at + DIR_ID] = e.dirId();
        rows[at + OBJECT_ID] = e.objectId();
        rows[at + NAME] = e.nameOffset() << 32 | e.nameLength() & 0xffff_ffffL;
        rows[at + CHILD_ID] = FileHandles.NO_ID;
        rows[at + FLAGS] = e.foreign() ? FOREIGN : 0;
        size++;
    }

    @Override
    public void malformed(String why) {
        malformed.accept(why);
    }

    /** Events in this batch. */
    int size() {
        return size;
    }

    long mask(int i) {
        return rows[i * ROW + MASK];
    }

    /** The kernfs id of the directory the name is in, or {@link FileHandles#NO_ID}. */
    long dirId(int i) {
        return rows[i * ROW + DIR_ID];
    }

    /** The kernfs id of the object itself (a deleted child), or {@link FileHandles#NO_ID}. */
    long objectId(int i) {
        return rows[i * ROW + OBJECT_ID];
    }

    /** An info record carried another file system's id. */
    boolean foreign(int i) {
        return (rows[i * ROW + FLAGS] & FOREIGN) != 0;
    }

    boolean isOverflow(int i) {
        return (mask(i) & Fanotify.FAN_Q_OVERFLOW) != 0;
    }

    boolean isCreate(int i) {
        return (mask(i) & Fanotify.FAN_CREATE) != 0;
    }

    boolean isDelete(int i) {
        return (mask(i) & Fanotify.FAN_DELETE) != 0;
    }

    /** A directory event with a parent and a name: a cgroup's (files in cgroupfs and the overflow are not). */
    boolean isCgroupEvent(int i) {
        return !isOverflow(i) && !foreign(i) && (mask(i) & Fanotify.FAN_ONDIR) != 0
                && dirId(i) != FileHandles.NO_ID && nameLength(i) >= 0;
    }

    /** A cgroup's CREATE without the child's id: on cgroupfs every CREATE (kernfs leaves the new dentry negative). */
    boolean needsChildId(int i) {
        return isCgroupEvent(i) && isCreate(i) && objectId(i) == FileHandles.NO_ID;
    }

    /** The name's length in bytes, -1 when the event has none. */
    int nameLength(int i) {
        return (int) rows[i * ROW + NAME];
    }

    /** Where the name's bytes start in {@link #buffer()}. */
    long nameOffset(int i) {
        return rows[i * ROW + NAME] >>> 32;
    }

    /** The read buffer the names are in (valid until the next {@link #parse}). */
    MemorySegment buffer() {
        return buffer;
    }

    /** The name's bytes, a new array (the index keeps it: the one copy of a new cgroup's name). */
    byte[] name(int i) {
        byte[] name = new byte[nameLength(i)];
        MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, nameOffset(i), name, 0, name.length);
        return name;
    }

    /** Stage 2: a listing of the parent answered this CREATE: the child's id, or {@link FileHandles#NO_ID} (gone). */
    void listed(int i, long childId) {
        rows[i * ROW + CHILD_ID] = childId;
        rows[i * ROW + FLAGS] |= LISTED;
    }

    /** Whether a listing answered this CREATE ({@link #listedId}). */
    boolean isListed(int i) {
        return (rows[i * ROW + FLAGS] & LISTED) != 0;
    }

    /** The child's id the listing gave, {@link FileHandles#NO_ID} when it showed the child gone. */
    long listedId(int i) {
        return rows[i * ROW + CHILD_ID];
    }
}
