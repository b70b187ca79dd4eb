package io.cgscope.http;

import io.cgscope.testing.KernelTest;
import io.cgscope.testing.ReaderFaults;
import io.cgscope.testing.TestCgroups;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API over the real, live index: real mkdir and rmdir under a unique test parent. */
@KernelTest
class HttpKernelTest {
    private static LiveIndex live;
    private TestCgroups cgroups;

    @BeforeAll
    static void start() {
        live = new LiveIndex();
    }

    @AfterAll
    static void stop() {
        if (live != null) {
            live.close();
        }
    }

    @AfterEach
    void cleanUp() {
        if (cgroups != null) {
            cgroups.close();
        }
    }

    private static JsonObject get(String path) {
        HttpResponse<String> r = live.server.client.get(path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return new JsonObject(r.body());
    }

    /** Reads events until one of this type and path arrives, or the deadline passes. */
    private static SseClient.Event await(SseClient sse, String type, String path, long deadlineNanos) {
        while (System.nanoTime() < deadlineNanos) {
            SseClient.Event e = sse.next(Duration.ofNanos(Math.max(1, deadlineNanos - System.nanoTime())));
            if (e != null && e.type().equals(type) && path.equals(new JsonObject(e.data()).getString("path"))) {
                return e;
            }
        }
        return null;
    }

    @Test
    void aMkdirIsOnTheStreamWithinOneSecondAndResumptionCatchesUp() {
        cgroups = new TestCgroups();
        String parent = cgroups.parentPath();
        String firstId;
        try (SseClient sse = new SseClient(live.server.port(), null)) {
            assertEquals(200, sse.status);
            long t0 = System.nanoTime();
            Path dir = cgroups.create("web.service");
            SseClient.Event created = await(sse, "create", parent + "/web.service", t0 + 1_000_000_000L);
            assertNotNull(created, "no create event within 1 s of the mkdir");
            JsonObject data = new JsonObject(created.data());
            assertEquals(TestCgroups.id(dir), data.getLong("id"));
            assertEquals("live", data.getString("state"));
            firstId = created.id();
        }
        // While nobody listens: a cgroup comes and goes. Resuming after the last seen event replays both.
        Path gone = cgroups.create("gone.service");
        long goneId = TestCgroups.id(gone);
        TestCgroups.remove(gone);
        try (SseClient sse = new SseClient(live.server.port(), firstId)) {
            long deadline = System.nanoTime() + 3_000_000_000L;
            SseClient.Event c = await(sse, "create", parent + "/gone.service", deadline);
            assertNotNull(c, "the missed create");
            assertTrue(Long.parseLong(c.id()) > Long.parseLong(firstId));
            SseClient.Event d = await(sse, "delete", parent + "/gone.service", deadline);
            assertNotNull(d, "the missed delete");
            assertEquals(goneId, new JsonObject(d.data()).getLong("id"));
            assertEquals("dead", new JsonObject(d.data()).getString("state"));
        }
    }

    @Test
    void aRemovedCgroupIsFoundDeadWithItsPath() throws Exception {
        cgroups = new TestCgroups();
        String path = cgroups.parentPath() + "/a.slice/short.service";
        Path dir = cgroups.create("a.slice/short.service");
        long first = TestCgroups.id(dir);
        TestCgroups.remove(dir);
        Path again = cgroups.create("a.slice/short.service");
        long second = TestCgroups.id(again);

        JsonObject dead = awaitState(first, "dead");
        assertEquals(path, dead.getString("path"));
        assertNotNull(dead.getString("deleted_at"));
        assertEquals("event", dead.getString("source"));

        JsonArray byPath = get("/cgroup?path=/" + path).getJsonArray("cgroups");
        assertEquals(2, byPath.size());
        assertEquals(second, byPath.getJsonObject(0).getLong("id"), "newest first");
        assertEquals("live", byPath.getJsonObject(0).getString("state"));
        assertEquals(first, byPath.getJsonObject(1).getLong("id"));

        JsonArray listed = get("/cgroups?prefix=" + cgroups.parentPath() + "&state=dead").getJsonArray("cgroups");
        assertEquals(1, listed.size());
        assertEquals(first, listed.getJsonObject(0).getLong("id"));
        assertEquals("0x" + Long.toHexString(second), "0x" + Long.toHexString(get("/cgroup/0x" + Long.toHexString(second)).getLong("id")));
    }

    @Test
    void anIdWhoseEventIsStillQueuedIsLookedUpInTheKernel() throws Exception {
        cgroups = new TestCgroups();
        AutoCloseable release = ReaderFaults.hold(live.component.watcher());
        try {
            Path dir = cgroups.create("early.service");
            JsonObject o = get("/cgroup/" + TestCgroups.id(dir));
            assertEquals(cgroups.parentPath() + "/early.service", o.getString("path"));
            assertEquals("lookup", o.getString("source"));
            assertEquals("live", o.getString("state"));
        } finally {
            release.close();
        }
    }

    private static JsonObject awaitState(long id, String state) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        JsonObject o;
        do {
            o = get("/cgroup/" + id);
            if (o.getString("state").equals(state)) {
                return o;
            }
            Thread.sleep(10); // polling the API as a client would; the delete is applied by another thread
        } while (System.nanoTime() < deadline);
        return o;
    }
}
