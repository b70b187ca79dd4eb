package io.cgscope.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A Server-Sent Events client on a raw socket: sends {@code GET /events}, checks the status line,
 * then hands out events one at a time. Parses the chunked framing away by reading lines and
 * skipping the chunk-size lines (event lines never look like bare hex numbers... except an
 * empty line, which ends an event).
 */
final class SseClient implements AutoCloseable {
    record Event(String id, String type, String data) {
    }

    final Socket socket;
    private final BufferedReader in;
    final int status;
    final String head;

    SseClient(int port, String lastEventId) {
        this(port, lastEventId, 0);
    }

    /** @param receiveBuffer a small receive buffer makes a slow client; 0 for the default */
    SseClient(int port, String lastEventId, int receiveBuffer) {
        try {
            socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(5000);
            String req = "GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
                    + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n") + "\r\n";
            socket.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder h = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                h.append(line).append('\n');
            }
            head = h.toString();
            status = head.length() >= 12 ? Integer.parseInt(head.substring(9, 12)) : -1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next event (comments and the retry field skipped), or null when none came within the timeout or the stream ended. */
    Event next(Duration timeout) {
        return next(timeout, false);
    }

    /** Like {@link #next(Duration)}; with {@code comments}, a comment line is returned as an event of type ":". */
    Event next(Duration timeout, boolean comments) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String id = null;
        String type = null;
        StringBuilder data = null;
        try {
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return null;
                }
                socket.setSoTimeout((int) Math.max(1, left));
                String line = in.readLine();
                if (line == null) {
                    return null;
                }
                if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    type = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = (data == null ? new StringBuilder() : data.append('\n')).append(line.substring(6));
                } else if (line.startsWith(":")) {
                    if (comments) {
                        return new Event(null, ":", line);
                    }
                } else if (line.isEmpty()) {
                    if (type != null) {
                        return new Event(id, type, data == null ? null : data.toString());
                    }
                }
                // anything else: chunk sizes, "retry:"
            }
        } catch (SocketTimeoutException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether the server closed the stream: reads (discarding) until end of stream, for at most the timeout. */
    boolean closedWithin(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        char[] buf = new char[65536];
        try {
            while (System.nanoTime() < deadline) {
                socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
        return false;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
