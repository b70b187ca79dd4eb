package io.cgscope.index;

import java.time.Instant;

/**
 * What readers see of one cgroup.
 *
 * @param id        the cgroup id (kernfs node id); unsigned 64-bit, print with {@link Long#toUnsignedString}
 * @param path      relative to the hierarchy root without a leading slash ({@code system.slice/nginx.service}),
 *                  {@code /} for the root, or null while an ancestor is not known yet
 * @param parentId  the parent's id (0 for the root)
 * @param createdAt when cgscope saw it appear, or null when it existed before cgscope saw it or the time is unknown
 * @param deletedAt when cgscope saw it removed, or null while live
 */
public record Cgroup(long id, String path, long parentId, State state, Instant createdAt, Instant deletedAt,
                     Source source) {
    public boolean isLive() {
        return state == State.LIVE;
    }
}
