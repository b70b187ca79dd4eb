package io.cgscope.http;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;
import io.cgscope.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The connection policy of {@link Connections} against a real server, with short timeouts and a
 * cap of four: header and idle timeouts, which connection makes room at the cap, and that an
 * event stream outlives both timeouts. Raw sockets, so that nothing sends more than the test says.
 */
class ConnectionLimitsTest {
    private static final long HEADER_MS = 600;
    private static final long IDLE_MS = 900;
    private static final String GET = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
    private final List<Socket> sockets = new ArrayList<>();
    private TestServer server;

    ConnectionLimitsTest() {
        index.root(1);
        index.flush();
        index.health().following(IndexHealth.Mode.FANOTIFY);
    }

    private TestServer server() {
        server = new TestServer(index, "--web.read-header-timeout=" + HEADER_MS + "ms",
                "--web.idle-timeout=" + IDLE_MS + "ms", "--web.max-connections=4");
        return server;
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** Reads one response to a request without a body (up to the end of its JSON line). */
    private static String response(Socket s) throws IOException {
        s.setSoTimeout(5000);
        InputStream in = s.getInputStream();
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.indexOf("\r\n\r\n") >= 0 && c == '\n' && sb.charAt(sb.length() - 2) == '}') {
                break;
            }
        }
        return sb.toString();
    }

    /** Milliseconds until the server closes the connection (read returns end of stream), or -1 after {@code max}. */
    private static long closedAfter(Socket s, long max) throws IOException {
        long t0 = System.nanoTime();
        s.setSoTimeout((int) max);
        try {
            while (s.getInputStream().read() >= 0) {
                // a response, if any; the close is what counts
            }
        } catch (SocketTimeoutException e) {
            return -1;
        } catch (IOException reset) {
            // closed with a reset
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static boolean open(Socket s) throws IOException {
        s.setSoTimeout(50);
        try {
            return s.getInputStream().read() >= 0; // nothing is due, so this times out while open
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A sample of a /metrics body (text format 0.0.4), labels as exported; NaN when absent. */
    private static double sample(String metrics, String nameWithLabels) {
        for (String line : metrics.split("\n")) {
            String l = line.replace(",}", "}");
            if (l.startsWith(nameWithLabels + " ")) {
                return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    /** Read from the registry, not over HTTP: a request would be one more connection at the cap. */
    private long closed(String reason) {
        return server.registry.getSampleValue("cgscope_http_connections_closed_total", new String[] {"reason"},
                new String[] {reason}).longValue();
    }

    @Test
    void aSilentConnectionAndASlowlorisAreClosedByTheHeaderTimeoutCountedFromTheStart() throws Exception {
        server();
        Socket silent = connect();
        Socket slow = connect();
        long t0 = System.nanoTime();
        for (char c : "GET /healthz HTTP/1.1\r\n".toCharArray()) { // a byte every 100 ms: it never times out by itself
            if (!open(slow) || (System.nanoTime() - t0) / 1_000_000 > HEADER_MS * 4) {
                break;
            }
            send(slow, String.valueOf(c));
            Thread.sleep(50);
        }
        long lived = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(lived < HEADER_MS * 3, "the slowloris was closed from the start of its head, after " + lived + " ms");
        assertTrue(closedAfter(silent, 5000) >= 0, "the silent one was closed");
        long silentLived = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(silentLived >= HEADER_MS - 50, "not before the timeout: " + silentLived + " ms");
        assertEquals(2, closed("header_timeout"));
    }

    @Test
    void aKeptAliveConnectionIsClosedAfterTheIdleTimeoutAndItsNextHeadIsTimedToo() throws Exception {
        server();
        Socket idle = connect();
        Socket again = connect();
        for (int i = 0; i < 3; i++) { // kept alive while it asks, even past the header timeout in total
            send(idle, GET);
            send(again, GET);
            assertTrue(response(idle).startsWith("HTTP/1.1 200"));
            assertTrue(response(again).startsWith("HTTP/1.1 200"));
            Thread.sleep(HEADER_MS / 2);
        }
        send(again, "GET /heal"); // the next head, never finished
        long idleFor = closedAfter(idle, 5000);
        assertTrue(idleFor >= IDLE_MS - HEADER_MS / 2 - 50, "closed too early: " + idleFor);
        assertTrue(closedAfter(again, 5000) >= 0);
        Await.until(Duration.ofSeconds(5), () -> closed("idle") == 1 && closed("header_timeout") == 1,
                () -> "idle " + closed("idle") + ", header_timeout " + closed("header_timeout"));
    }

    @Test
    void anEventStreamOutlivesBothTimeouts() throws Exception {
        server();
        try (SseClient stream = new SseClient(server.port(), null)) {
            assertEquals(200, stream.status);
            Thread.sleep(HEADER_MS + IDLE_MS + 300);
            index.created(77, 1, "late".getBytes(StandardCharsets.UTF_8), Source.EVENT);
            index.flush();
            SseClient.Event e = stream.next(Duration.ofSeconds(5));
            assertNotNull(e, "the stream is still open");
            assertEquals("create", e.type());
        }
    }

    @Test
    void atTheCapTheLongestSilentConnectionMakesRoom() throws Exception {
        server();
        Socket oldest = connect();
        Socket spoke = connect();
        Socket s3 = connect();
        Socket kept = connect();
        send(kept, GET);
        assertTrue(response(kept).startsWith("HTTP/1.1 200")); // now idle, kept alive
        send(spoke, "GET /"); // heard from after s3 connected: the last of the silent ones to go
        Thread.sleep(100); // nothing to await: the server reads it on its own time
        // Four open: a new real client gets its answer, and the longest silent one is closed for it.
        Socket scrape = connect();
        send(scrape, GET);
        assertTrue(response(scrape).startsWith("HTTP/1.1 200"));
        assertTrue(closedAfter(oldest, 2000) >= 0, "the longest silent one was evicted");
        assertTrue(open(spoke) && open(s3) && open(kept));
        Socket next = connect();
        send(next, GET);
        assertTrue(response(next).startsWith("HTTP/1.1 200"));
        assertTrue(closedAfter(s3, 2000) >= 0, "then the one silent for longest");
        assertTrue(open(spoke) && open(kept), "the one heard from and the idle one stay");
        assertEquals(2, closed("evicted"));
        assertEquals(0, closed("limit"));
    }

    @Test
    void withNoConnectionReadingTheOldestIdleOneMakesRoom() throws Exception {
        server();
        List<Socket> idle = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = connect();
            send(s, GET);
            assertTrue(response(s).startsWith("HTTP/1.1 200"));
            idle.add(s);
        }
        Socket scrape = connect();
        send(scrape, GET);
        assertTrue(response(scrape).startsWith("HTTP/1.1 200"));
        assertTrue(closedAfter(idle.getFirst(), 2000) >= 0, "the oldest idle one was evicted");
        for (Socket s : idle.subList(1, 4)) {
            assertTrue(open(s));
        }
        assertEquals(1, closed("evicted"));
    }

    @Test
    void whenEveryConnectionIsBusyANewOneIsRefused() throws Exception {
        server();
        List<SseClient> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                streams.add(new SseClient(server.port(), null));
                assertEquals(200, streams.getLast().status);
            }
            Socket refused = connect();
            send(refused, GET);
            assertTrue(closedAfter(refused, 2000) >= 0, "closed at once");
            for (SseClient s : streams) {
                assertFalse(s.closedWithin(Duration.ofMillis(50)), "the streams are left alone");
            }
        } finally {
            streams.forEach(SseClient::close);
        }
        Await.until(Duration.ofSeconds(5), () -> closed("limit") == 1, () -> "limit " + closed("limit"));
        String metrics = server.client.get("/metrics").body();
        assertEquals(4.0, sample(metrics, "cgscope_http_max_connections"));
        assertTrue(sample(metrics, "cgscope_http_connections") >= 1);
        assertEquals(0.0, sample(metrics, "cgscope_http_accept_errors_total{errno=\"EMFILE\"}"));
    }
}
