package io.cgscope.http;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.Source;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.RuntimeBundles;
import io.cgscope.testing.RuntimeBundles.Identity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Workloads in the API, against a real server over a hand-fed index and bundles written as
 * containerd and CRI-O write them: the {@code workload} object, the {@code /cgroups} filters,
 * {@code /pods} and {@code /events}.
 */
class WorkloadApiTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00.100Z");
    private static final String UID = "0b7e8f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
    private static final String UID2 = "6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    private static final String POD = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            + UID.replace('-', '_') + ".slice";
    private static final String SB = "aa".repeat(32);
    private static final String CART = "c1".repeat(32);
    private static final String CART_OLD = "c0".repeat(32);
    private static final String PROXY = "cc".repeat(32);

    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15),
            com.github.benmanes.caffeine.cache.Ticker.systemTicker(), Clock.fixed(NOW, ZoneOffset.UTC));
    private final Path containerd;
    private final Path crio;
    private final TestServer server;

    WorkloadApiTest() throws Exception {
        containerd = Files.createTempDirectory("cgscope-containerd-");
        crio = Files.createTempDirectory("cgscope-crio-");
        Identity shop = new Identity(CART, SB, UID, "shop", "cart-7d9f-x2k9l", "cart", "registry.example.org/cart:3");
        RuntimeBundles.containerd(containerd, shop, false);
        RuntimeBundles.containerd(containerd, new Identity(CART_OLD, SB, UID, "shop", "cart-7d9f-x2k9l", "cart",
                "registry.example.org/cart:2"), false);
        RuntimeBundles.containerd(containerd, new Identity(SB, SB, UID, "shop", "cart-7d9f-x2k9l", null, null), true);
        RuntimeBundles.crio(crio, new Identity(PROXY, "dd".repeat(32), UID2, "edge", "proxy-0", "envoy",
                "docker.io/envoyproxy/envoy:v1.31"), false);
        index.root(1);
        mkdir(10, 1, "kubepods.slice");
        mkdir(11, 10, "kubepods-burstable.slice");
        mkdir(12, 11, POD.substring(POD.lastIndexOf('/') + 1));
        mkdir(13, 12, "cri-containerd-" + SB + ".scope");
        mkdir(14, 12, "cri-containerd-" + CART_OLD + ".scope");
        index.deleted(14, 12, n("cri-containerd-" + CART_OLD + ".scope"), Source.EVENT); // restarted: retained, dead
        mkdir(15, 12, "cri-containerd-" + CART + ".scope");
        mkdir(16, 15, "init.scope");
        mkdir(20, 1, "kubepods");
        mkdir(21, 20, "pod" + UID2);
        mkdir(22, 21, "crio-" + PROXY);
        mkdir(23, 21, "crio-conmon-" + PROXY);
        mkdir(30, 1, "system.slice");
        mkdir(31, 30, "nginx.service");
        mkdir(32, 30, "docker-compose.service");
        index.flush();
        server = new TestServer(index, "--workload.runtime-dirs=" + containerd + "," + crio);
    }

    private void mkdir(long id, long parent, String name) {
        index.created(id, parent, n(name), Source.EVENT);
    }

    private static byte[] n(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        Cleanup.deleteTree(containerd);
        Cleanup.deleteTree(crio);
    }

    private JsonObject json(String path) {
        HttpResponse<String> r = server.client.get(path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return new JsonObject(r.body());
    }

    private List<Long> ids(String query) {
        JsonArray a = json("/cgroups?" + query).getJsonArray("cgroups");
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            out.add(a.getJsonObject(i).getLong("id"));
        }
        return out;
    }

    @Test
    void theWorkloadObject() {
        JsonObject w = json("/cgroup/16").getJsonObject("workload");
        assertEquals(new JsonObject()
                .put("kind", "container").put("namespace", "shop").put("pod", "cart-7d9f-x2k9l").put("container", "cart")
                .put("pod_uid", UID).put("container_id", CART).put("qos_class", "burstable").put("runtime", "containerd")
                .put("unit", "cri-containerd-" + CART + ".scope").put("slice", POD.substring(POD.lastIndexOf('/') + 1))
                .put("image", "registry.example.org/cart:3").put("pod_cgroup", POD)
                .put("container_cgroup", POD + "/cri-containerd-" + CART + ".scope"), w, "a cgroup below a container");
        assertEquals(List.of("kind", "namespace", "pod", "container", "pod_uid", "container_id", "qos_class", "runtime",
                "unit", "slice", "image", "pod_cgroup", "container_cgroup"), List.copyOf(w.fieldNames()), "every key, in order");
        JsonObject sandbox = json("/cgroup/13").getJsonObject("workload");
        assertEquals("sandbox", sandbox.getString("kind"));
        assertEquals("POD", sandbox.getString("container"));
        JsonObject nginx = json("/cgroup/31").getJsonObject("workload");
        assertEquals("systemd-unit", nginx.getString("kind"));
        assertEquals("nginx.service", nginx.getString("unit"));
        assertNull(nginx.getValue("pod"), "null where it has none");
        JsonObject crioContainer = json("/cgroup?path=kubepods/pod" + UID2 + "/crio-" + PROXY).getJsonArray("cgroups")
                .getJsonObject(0).getJsonObject("workload");
        assertEquals("envoy", crioContainer.getString("container"));
        assertEquals("cri-o", crioContainer.getString("runtime"));
        assertEquals("guaranteed", crioContainer.getString("qos_class"));
        assertEquals("kubepods/pod" + UID2, crioContainer.getString("pod_cgroup"));
        assertEquals("other", json("/cgroup/1").getJsonObject("workload").getString("kind"));
    }

    @Test
    void listingFilters() {
        assertEquals(List.of(12L, 13L, 14L, 15L, 16L), ids("namespace=shop"));
        assertEquals(List.of(12L, 13L, 14L, 15L, 16L), ids("pod=cart-7d9f-x2k9l"));
        assertEquals(List.of(14L, 15L, 16L), ids("container=cart"), "the retained one of a restart too");
        assertEquals(List.of(15L, 16L), ids("container=cart&state=live"));
        assertEquals(List.of(13L), ids("container=POD"));
        assertEquals(List.of(13L), ids("kind=sandbox"));
        assertEquals(List.of(21L, 22L, 23L), ids("namespace=edge"));
        assertEquals(List.of(22L), ids("namespace=edge&kind=container"));
        assertEquals(List.of(31L), ids("unit=nginx.service"));
        assertEquals(List.of(32L), ids("unit=docker-compose.service&kind=systemd-unit"));
        assertEquals(List.of(12L, 21L), ids("kind=pod"));
        assertEquals(List.of(), ids("namespace=nope"));
        assertEquals(List.of(22L), ids("namespace=edge&prefix=kubepods/pod" + UID2 + "/crio-" + PROXY));
        JsonObject limited = json("/cgroups?namespace=shop&limit=2");
        assertEquals(2, limited.getJsonArray("cgroups").size());
        assertTrue(limited.getBoolean("truncated"));
        assertEquals(false, json("/cgroups?namespace=shop&limit=5").getBoolean("truncated"));
        for (String bad : new String[] {"namespace=Shop", "namespace=" + "a".repeat(64), "pod=-cart", "pod=a..b",
                "container=a_b", "unit=nginx", "unit=a%20b.service", "unit=system.slice", "kind=vm", "kind=",
                "namespace=shop&namespace=edge"}) {
            HttpResponse<String> r = server.client.get("/cgroups?" + bad);
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(new JsonObject(r.body()).getString("error").length() > 10, r.body());
        }
    }

    @Test
    void pods() {
        JsonArray pods = json("/pods").getJsonArray("pods");
        assertEquals(2, pods.size(), pods.encodePrettily());
        JsonObject edge = pods.getJsonObject(0);
        assertEquals("edge", edge.getString("namespace"), "sorted by namespace");
        assertEquals("proxy-0", edge.getString("name"));
        assertEquals(UID2, edge.getString("uid"));
        assertEquals("guaranteed", edge.getString("qos_class"));
        assertEquals(List.of(21L, 23L), refIds(edge.getJsonArray("cgroups")), "its own: the pod and CRI-O's monitor");
        JsonObject envoy = edge.getJsonArray("containers").getJsonObject(0);
        assertEquals(new JsonObject().put("name", "envoy").put("container_id", PROXY).put("kind", "container")
                .put("runtime", "cri-o").put("image", "docker.io/envoyproxy/envoy:v1.31")
                .put("cgroups", new JsonArray().add(new JsonObject().put("id", 22).put("path", "kubepods/pod" + UID2
                        + "/crio-" + PROXY).put("state", "live"))), envoy);
        JsonObject shop = pods.getJsonObject(1);
        assertEquals("cart-7d9f-x2k9l", shop.getString("name"));
        JsonArray containers = shop.getJsonArray("containers");
        assertEquals(3, containers.size(), containers.encodePrettily());
        assertEquals("POD", containers.getJsonObject(0).getString("name"));
        assertEquals("sandbox", containers.getJsonObject(0).getString("kind"));
        JsonObject cartOld = containers.getJsonObject(1);
        assertEquals(CART_OLD, cartOld.getString("container_id"), "by name, then id");
        assertEquals("dead", cartOld.getJsonArray("cgroups").getJsonObject(0).getString("state"), "retained");
        JsonObject cart = containers.getJsonObject(2);
        assertEquals(List.of(15L, 16L), refIds(cart.getJsonArray("cgroups")), "its own cgroup and the nested one");
        assertEquals(1, json("/pods?namespace=shop").getJsonArray("pods").size());
        assertEquals(1, json("/pods?state=dead").getJsonArray("pods").size());
        assertEquals(400, server.client.get("/pods?namespace=Shop").statusCode());
        assertEquals(400, server.client.get("/pods?pod=x").statusCode());
    }

    private static List<Long> refIds(JsonArray refs) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
            out.add(refs.getJsonObject(i).getLong("id"));
        }
        return out;
    }

    @Test
    void eventsCarryTheWorkload() {
        try (SseClient sse = new SseClient(server.port(), "1")) { // from the start of the history
            JsonObject found = null;
            for (int i = 0; i < 30 && found == null; i++) {
                SseClient.Event e = sse.next(Duration.ofSeconds(10));
                assertTrue(e != null, "an event");
                JsonObject data = new JsonObject(e.data());
                if (data.getLong("id") == 22 && e.type().equals("create")) {
                    found = data;
                }
            }
            assertTrue(found != null, "the create of cgroup 22");
            assertEquals("envoy", found.getJsonObject("workload").getString("container"));
            assertEquals("proxy-0", found.getJsonObject("workload").getString("pod"));
        }
    }
}
