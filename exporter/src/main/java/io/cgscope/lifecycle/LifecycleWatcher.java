package io.cgscope.lifecycle;

import io.cgscope.bpf.LifecycleEvent;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.IndexSource;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * The BPF source of one hierarchy: keeps its {@link CgroupIndex} equal to its cgroup tree from the
 * records of the lifecycle programs (mkdir and rmdir tracepoints), for kernels whose kernfs has no
 * fsid, where fanotify refuses the mark. The programs, their ring and the reader thread are
 * shared by every hierarchy the BPF source keeps ({@link LifecycleHub}).
 *
 * <p>Started by its {@link IndexKeeper} without a race: {@link #attach()} joins the hub (the
 * programs attached at the first join), the keeper sweeps the tree, {@link #catchUp()} applies the
 * records kept meanwhile, {@link #follow()} hands the index to the reader thread, which drains the
 * ring in batches (1 ms apart while records keep coming) and has the keeper re-sync whenever the
 * programs counted a record the ring had no room for.
 */
public final class LifecycleWatcher implements IndexSource, AutoCloseable {
    private final LifecycleHub hub;
    /** The hub this source made for itself (the standalone constructor), closed with it; or null. */
    private final LifecycleHub ownHub;
    private final IndexKeeper keeper;
    private final int hierarchy;
    /** The sweeper this source made for its own keeper (the standalone constructor), or null. */
    private final Sweeper ownTree;
    private LifecycleHub.Member member;
    private long lostAtJoin;

    /** The source of one hierarchy ({@code hierarchy_id}: 0 for the unified one) that {@code keeper} starts. */
    public LifecycleWatcher(LifecycleHub hub, IndexKeeper keeper, int hierarchy) {
        this(hub, null, keeper, hierarchy, null);
    }

    /** A source of the unified hierarchy with a hub and a keeper of its own (no fallback), for tests: {@link #start()}. */
    public LifecycleWatcher(CgroupFs fs, CgroupIndex index, int ringBytes) throws SyscallException {
        this(new LifecycleHub(ringBytes), fs, index);
    }

    private LifecycleWatcher(LifecycleHub hub, CgroupFs fs, CgroupIndex index) {
        this(hub, hub, fs, index, new Sweeper(fs));
    }

    private LifecycleWatcher(LifecycleHub hub, LifecycleHub ownHub, CgroupFs fs, CgroupIndex index, Sweeper tree) {
        this(hub, ownHub, new IndexKeeper(index, tree), LifecycleEvent.UNIFIED, tree);
    }

    private LifecycleWatcher(LifecycleHub hub, LifecycleHub ownHub, IndexKeeper keeper, int hierarchy,
                             Sweeper ownTree) {
        this.hub = hub;
        this.ownHub = ownHub;
        this.keeper = keeper;
        this.hierarchy = hierarchy;
        this.ownTree = ownTree;
    }

    /** Has the keeper start this source: attach, sweep, apply the records kept meanwhile, follow. */
    public void start() throws IOException {
        keeper.start(this);
    }

    @Override
    public IndexHealth.Mode mode() {
        return IndexHealth.Mode.BPF;
    }

    /** Joins the hub: from when this returns, every mkdir and rmdir of the hierarchy is kept for it. */
    @Override
    public void attach() throws IOException {
        member = hub.join(hierarchy, keeper);
        lostAtJoin = hub.lost();
    }

    @Override
    public void catchUp() throws IOException {
        hub.catchUp(member);
    }

    @Override
    public void follow() {
        try {
            hub.follow(member);
        } catch (IOException e) {
            // the re-sync after a loss during the start failed: the reader re-syncs at its next loss
            keeper.readerFailed("BPF lifecycle source: re-sync at start failed: " + e.getMessage());
        }
    }

    /** The ring's size in bytes. */
    public int ringBytes() {
        return hub.ringBytes();
    }

    /** Records lost since this source joined (the ring was full): each loss was followed by a re-sync. */
    public long lost() {
        return hub.lost() - lostAtJoin;
    }

    /** Test hook: the shared reader stops draining until {@code release} counts down. */
    void holdReader(CountDownLatch release) throws InterruptedException, SyscallException {
        hub.holdReader(release);
    }

    /** Leaves the hub (the last one out detaches the programs); idempotent, safe after a failed attach. */
    @Override
    public void close() {
        if (member != null) {
            hub.leave(member);
        }
        if (ownHub != null) {
            ownHub.close();
        }
        if (ownTree != null) {
            ownTree.close();
        }
    }
}
