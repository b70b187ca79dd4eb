package io.cgscope.stress;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A well-behaved client during an attack: every {@link #INTERVAL_MILLIS} it asks for {@code
 * /metrics} or {@code /healthz} (in turn) on a new connection, as Prometheus does after its
 * connection was closed, and notes whether the answer was complete, right and within
 * {@link #DEADLINE_MILLIS}. Runs on its own thread until {@link #stop}.
 */
final class Scraper implements AutoCloseable {
    static final long INTERVAL_MILLIS = 100;
    static final int DEADLINE_MILLIS = 1000;

    /** One request: what it asked, how long it took, and null or why it failed. */
    record Try(String path, long startedMillis, long millis, String failure) {
    }

    /** An answer read off the socket: the status and the body. */
    record Answer(int status, String body) {
    }

    private final int port;
    private final SSLSocketFactory tls;
    private final List<Try> tries = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean running = true;
    private final long started = System.nanoTime();

    private Scraper(int port, SSLSocketFactory tls) {
        this.port = port;
        this.tls = tls;
        this.thread = Thread.ofPlatform().name("scraper").daemon().start(this::run);
    }

    /** Starts scraping 127.0.0.1:port; {@code tls}: null for plain HTTP. */
    static Scraper start(int port, SSLSocketFactory tls) {
        return new Scraper(port, tls);
    }

    private void run() {
        long next = System.nanoTime();
        for (int i = 0; running; i++) {
            String path = i % 2 == 0 ? "/metrics" : "/healthz";
            long t0 = System.nanoTime();
            String failure;
            try {
                Answer a = get(port, tls, path, DEADLINE_MILLIS);
                failure = a.status() != 200 ? "status " + a.status()
                        : path.equals("/healthz") && !a.body().contains("\"status\":\"ok\"") ? "body " + a.body()
                        : path.equals("/metrics") && !a.body().contains("\ncgscope_http_connections ")
                        ? "incomplete metrics (" + a.body().length() + " bytes)" : null;
            } catch (IOException e) {
                failure = e.toString();
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            if (failure == null && millis > DEADLINE_MILLIS) {
                failure = "took " + millis + " ms";
            }
            tries.add(new Try(path, (t0 - started) / 1_000_000, millis, failure));
            next += INTERVAL_MILLIS * 1_000_000;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            } else {
                next = System.nanoTime();
            }
        }
    }

    /** Stops and returns every try made. */
    List<Try> stop() throws InterruptedException {
        running = false;
        thread.join(5000);
        synchronized (tries) {
            return List.copyOf(tries);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /**
     * {@code GET path} on a new connection with {@code Connection: close}, read to the end; the
     * whole exchange (connect, TLS handshake, response) must fit in {@code deadlineMillis}.
     */
    static Answer get(int port, SSLSocketFactory tls, String path, int deadlineMillis) throws IOException {
        long deadline = System.nanoTime() + deadlineMillis * 1_000_000L;
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", port), deadlineMillis);
            Socket s = plain;
            if (tls != null) {
                s = tls.createSocket(plain, "127.0.0.1", port, true);
                s.setSoTimeout(remaining(deadline));
                ((SSLSocket) s).startHandshake();
            }
            try (Socket conn = s) {
                conn.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                InputStream in = conn.getInputStream();
                byte[] buf = new byte[16384];
                int n;
                do {
                    conn.setSoTimeout(remaining(deadline));
                    n = in.read(buf);
                    if (n > 0) {
                        got.write(buf, 0, n);
                    }
                } while (n > 0);
                String text = got.toString(StandardCharsets.UTF_8);
                int split = text.indexOf("\r\n\r\n");
                if (!text.startsWith("HTTP/1.1 ") || split < 0) {
                    throw new IOException("no HTTP response: " + text.length() + " bytes");
                }
                return new Answer(Integer.parseInt(text.substring(9, 12)), text.substring(split + 4));
            }
        }
    }

    private static int remaining(long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new IOException("deadline passed");
        }
        return (int) left;
    }

    /** The value of an unlabelled sample, or of {@code name{labels}} as exported, in a /metrics body; NaN when absent. */
    static double sample(String metrics, String nameWithLabels) {
        for (String line : metrics.split("\n")) {
            String l = line.replace(",}", "}");
            if (l.startsWith(nameWithLabels + " ")) {
                return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }
}
