/**
 * The fanotify source of the index: constants with their header names ({@code Fanotify}), a pure
 * parser ({@code EventParser}, bytes to {@code FanotifyEvent}s), and the reader
 * ({@code CgroupWatcher}), whose every read goes through three stages: {@code EventBatch} (parse,
 * once), {@code BatchListings} (CREATEs' child ids by one listing per parent),
 * {@code EventApplier} (apply in order, {@code ChildLookup} for the ids no listing gave).
 *
 * <p>May import {@code linux}, {@code cgroupfs} (the mount, the sweeper) and {@code index}.
 */
package io.cgscope.fanotify;
