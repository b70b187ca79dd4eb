package io.cgscope.workload;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.cgscope.testing.Await;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.RuntimeBundles;
import io.cgscope.testing.RuntimeBundles.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The tracker reads a container's bundle as the index learns its cgroup, so the names outlive the
 * bundle (a runtime removes it with the container), and forgets it when the cgroup's retention ends.
 */
class BundleTrackerTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final String UID = "0b7e8f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e";

    private static byte[] n(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsAsTheIndexLearnsAndForgetsWhenTheRetentionEnds() throws Exception {
        Path dir = Files.createTempDirectory("cgscope-tracker-");
        FakeTicker ticker = new FakeTicker();
        CgroupIndex index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.root(1);
        String running = "ab".repeat(32);
        String fresh = "cd".repeat(32);
        RuntimeBundles.containerd(dir, new Identity(running, "ee".repeat(32), UID, "shop", "cart-0", "cart", "img:1"),
                false);
        Path freshBundle = RuntimeBundles.containerd(dir, new Identity(fresh, "ee".repeat(32), UID, "shop", "cart-0",
                "worker", "img:2"), false);
        index.created(10, 1, n("kubepods"), Source.SWEEP);
        index.created(11, 10, n("pod" + UID), Source.SWEEP);
        index.created(12, 11, n(running), Source.SWEEP);
        WorkloadResolver resolver = new WorkloadResolver(new Bundles(new BundleReader(List.of(dir))));
        try (BundleTracker tracker = new BundleTracker(index, resolver, TimeUnit.MILLISECONDS.toNanos(50))) {
            tracker.start();
            assertEquals(1, resolver.bundles().reads(), "the running container's bundle is read before start returns");

            index.created(13, 11, n(fresh), Source.EVENT);
            index.created(14, 11, n("not-a-container"), Source.EVENT);
            index.flush(); // the writer signals its subscribers after a batch
            // kept (size) only once read: reads() counts a read as it starts
            Await.until(Duration.ofSeconds(10), () -> resolver.bundles().size() == 2,
                    () -> "the tracker read the new container's bundle: reads " + resolver.bundles().reads());
            assertEquals(2, resolver.bundles().reads());
            Files.delete(freshBundle); // the runtime deleted the container, bundle and all
            assertEquals("worker", resolver.of(13, "kubepods/pod" + UID + "/" + fresh).container(),
                    "the name outlives the bundle");

            index.deleted(13, 11, n(fresh), Source.EVENT);
            index.flush();
            ticker.advance(RETENTION.plusSeconds(1));
            index.maintain(); // the retention of cgroup 13 ends
            Await.until(Duration.ofSeconds(10), () -> resolver.bundles().size() == 1,
                    () -> "the bundle of the gone cgroup is forgotten: " + resolver.bundles().size() + " kept");
            assertEquals(2, resolver.bundles().reads());
        } finally {
            Cleanup.deleteTree(dir);
        }
    }
}
