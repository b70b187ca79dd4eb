package io.cgscope.fanotify;

/** Constants from {@code <linux/fanotify.h>}, named as there. */
public final class Fanotify {
    // fanotify_init flags
    public static final int FAN_CLOEXEC = 0x0000_0001;
    public static final int FAN_NONBLOCK = 0x0000_0002;
    public static final int FAN_CLASS_NOTIF = 0x0000_0000;
    public static final int FAN_UNLIMITED_QUEUE = 0x0000_0010;
    public static final int FAN_REPORT_FID = 0x0000_0200;
    public static final int FAN_REPORT_DIR_FID = 0x0000_0400;
    public static final int FAN_REPORT_NAME = 0x0000_0800;
    public static final int FAN_REPORT_TARGET_FID = 0x0000_1000;
    public static final int FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME;
    public static final int FAN_REPORT_DFID_NAME_TARGET =
            FAN_REPORT_DFID_NAME | FAN_REPORT_FID | FAN_REPORT_TARGET_FID;

    // fanotify_mark flags
    public static final int FAN_MARK_ADD = 0x0000_0001;
    public static final int FAN_MARK_ONLYDIR = 0x0000_0008;
    public static final int FAN_MARK_MOUNT = 0x0000_0010;
    public static final int FAN_MARK_FILESYSTEM = 0x0000_0100;

    // event mask bits
    public static final long FAN_MOVED_FROM = 0x0000_0040L;
    public static final long FAN_MOVED_TO = 0x0000_0080L;
    public static final long FAN_CREATE = 0x0000_0100L;
    public static final long FAN_DELETE = 0x0000_0200L;
    public static final long FAN_DELETE_SELF = 0x0000_0400L;
    public static final long FAN_Q_OVERFLOW = 0x0000_4000L;
    public static final long FAN_RENAME = 0x1000_0000L;
    public static final long FAN_ONDIR = 0x4000_0000L;

    // struct fanotify_event_info_header.info_type
    public static final int FAN_EVENT_INFO_TYPE_FID = 1;
    public static final int FAN_EVENT_INFO_TYPE_DFID_NAME = 2;
    public static final int FAN_EVENT_INFO_TYPE_DFID = 3;
    public static final int FAN_EVENT_INFO_TYPE_PIDFD = 4;
    public static final int FAN_EVENT_INFO_TYPE_ERROR = 5;
    public static final int FAN_EVENT_INFO_TYPE_OLD_DFID_NAME = 6;
    public static final int FAN_EVENT_INFO_TYPE_NEW_DFID_NAME = 10;

    public static final int FANOTIFY_METADATA_VERSION = 3;
    /** {@code sizeof(struct fanotify_event_metadata)}. */
    public static final int FAN_EVENT_METADATA_LEN = 24;
    /** {@code FAN_NOFD}: the fd field of an event in FID mode. */
    public static final int FAN_NOFD = -1;

    private Fanotify() {
    }
}
