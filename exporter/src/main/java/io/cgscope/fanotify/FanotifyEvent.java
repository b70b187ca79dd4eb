package io.cgscope.fanotify;

/**
 * One parsed fanotify event of a FID-reporting group on cgroupfs.
 *
 * @param mask     the event mask; may hold several events merged into one (CREATE|DELETE)
 * @param pid      the pid that caused it (0 for an overflow)
 * @param dirId    the kernfs id of the directory the name is in (DFID_NAME or DFID), or {@link #NONE}
 * @param name     the entry's name within {@code dirId} (bytes, not necessarily UTF-8), or null
 * @param objectId the kernfs id of the object itself (FID record, e.g. the deleted child), or {@link #NONE}
 * @param foreign  an info record carried a file system id other than the watched cgroupfs
 */
public record FanotifyEvent(long mask, int pid, long dirId, byte[] name, long objectId, boolean foreign) {
    /** No id: kernfs ids start at 1. */
    public static final long NONE = 0;

    public boolean isOverflow() {
        return (mask & Fanotify.FAN_Q_OVERFLOW) != 0;
    }

    public boolean isCreate() {
        return (mask & Fanotify.FAN_CREATE) != 0;
    }

    public boolean isDelete() {
        return (mask & Fanotify.FAN_DELETE) != 0;
    }

    public boolean isDirectory() {
        return (mask & Fanotify.FAN_ONDIR) != 0;
    }
}
