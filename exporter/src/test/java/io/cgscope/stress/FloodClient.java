package io.cgscope.stress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A hostile client, run as its own process by {@link HostileClientsIT} (a JDK-only main, so it
 * starts from the test classes alone): many connections to 127.0.0.1:PORT that never complete a
 * request, for at most SECONDS, then it closes everything and prints one summary line.
 *
 * <pre>java -cp test-classes io.cgscope.stress.FloodClient MODE PORT CONNECTIONS SECONDS [REOPEN_PER_SECOND]</pre>
 * It prints {@code READY} once started and opens its connections when a line comes on stdin
 * (so that several clients burst together, after their JVMs' start-up).
 * Modes:
 * <ul>
 *   <li>{@code idle}: connect and send nothing; a connection the server closes is opened again,
 *       at most REOPEN_PER_SECOND a second (so the flood stays several times the server's cap);</li>
 *   <li>{@code tls-idle}: the same, each first sending the 5-byte header of a TLS handshake record
 *       and nothing more: a handshake that never finishes;</li>
 *   <li>{@code slowloris}: send a request head one byte a second and never finish it; nothing
 *       reopened: the line reports how long the server let each connection live;</li>
 *   <li>{@code tls-slowloris}: the same with a TLS ClientHello, one byte a second.</li>
 * </ul>
 * Summary: {@code FLOOD mode=.. opened=N closed_by_server=N open_at_end=N max_open=N
 * longest_ms=N} where longest_ms is the longest a connection lived until the server closed it.
 */
public final class FloodClient {
    private static final byte[] HEAD = ("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n"
            + "X-Padding: " + "a".repeat(200) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    /** A TLS handshake record header (content type 22, TLS 1.0 record version) announcing 512 bytes. */
    private static final byte[] TLS_RECORD = {0x16, 0x03, 0x01, 0x02, 0x00};
    /** A handshake record announcing a 512-byte ClientHello, then the start of one: never completed. */
    private static final byte[] CLIENT_HELLO = tlsClientHelloPrefix();

    private FloodClient() {
    }

    private static final class Conn {
        final long openedNanos = System.nanoTime();
        int sent;
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        String mode = args[0];
        int port = Integer.parseInt(args[1]);
        int wanted = Integer.parseInt(args[2]);
        boolean slow = mode.endsWith("slowloris");
        int reopenPerSecond = args.length > 4 && !slow ? Integer.parseInt(args[4]) : 0;
        byte[] trickle = mode.startsWith("tls") ? CLIENT_HELLO : HEAD;
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", port);
        System.out.println("READY");
        System.out.flush();
        if (System.in.read() < 0) {
            return; // the test is gone
        }
        Map<SocketChannel, Conn> open = new HashMap<>();
        ByteBuffer scratch = ByteBuffer.allocate(4096);
        long deadline = System.nanoTime() + Long.parseLong(args[3]) * 1_000_000_000L;
        long opened = 0;
        long closedByServer = 0;
        long longestMillis = 0;
        int maxOpen = 0;
        double reopenBudget = 0;
        long lastTick = System.nanoTime();
        long lastTrickle = 0;
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < wanted; i++) {
                if (connect(selector, target, open, mode)) {
                    opened++;
                }
            }
            while (System.nanoTime() < deadline) {
                selector.select(50);
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel ch = (SocketChannel) key.channel();
                    if (!key.isValid()) {
                        continue;
                    }
                    boolean gone = false;
                    try {
                        if (key.isConnectable()) {
                            ch.finishConnect();
                            key.interestOps(SelectionKey.OP_READ);
                            if (mode.equals("tls-idle")) {
                                ch.write(ByteBuffer.wrap(TLS_RECORD));
                            }
                        } else if (key.isReadable()) {
                            scratch.clear();
                            gone = ch.read(scratch) < 0; // a response (an error, a TLS alert) is read and dropped
                        }
                    } catch (IOException e) {
                        gone = true; // reset, or refused while connecting
                    }
                    if (gone) {
                        Conn c = open.remove(ch);
                        closedByServer++;
                        longestMillis = Math.max(longestMillis, (System.nanoTime() - c.openedNanos) / 1_000_000);
                        key.cancel();
                        ch.close();
                    }
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                if (slow && now - lastTrickle >= 1_000_000_000L) {
                    lastTrickle = now;
                    for (Map.Entry<SocketChannel, Conn> e : open.entrySet()) {
                        Conn c = e.getValue();
                        if (e.getKey().isConnected() && c.sent < trickle.length - 1) { // never the last byte
                            try {
                                e.getKey().write(ByteBuffer.wrap(trickle, c.sent, 1));
                                c.sent++;
                            } catch (IOException ignored) {
                                // the read side sees the close
                            }
                        }
                    }
                }
                if (reopenPerSecond > 0) {
                    reopenBudget = Math.min(reopenPerSecond, reopenBudget + (now - lastTick) / 1e9 * reopenPerSecond);
                    lastTick = now;
                    while (open.size() < wanted && reopenBudget >= 1) {
                        reopenBudget--;
                        if (connect(selector, target, open, mode)) {
                            opened++;
                        }
                    }
                }
                maxOpen = Math.max(maxOpen, open.size());
            }
        }
        int openAtEnd = open.size();
        for (SocketChannel ch : open.keySet()) {
            ch.close();
        }
        System.out.println("FLOOD mode=" + mode + " opened=" + opened + " closed_by_server=" + closedByServer
                + " open_at_end=" + openAtEnd + " max_open=" + maxOpen + " longest_ms=" + longestMillis);
    }

    private static boolean connect(Selector selector, InetSocketAddress target, Map<SocketChannel, Conn> open,
                                   String mode) {
        try {
            SocketChannel ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.SO_LINGER, 0); // end with a reset: no TIME_WAIT pile-up in the test
            if (ch.connect(target)) {
                ch.register(selector, SelectionKey.OP_READ);
                if (mode.equals("tls-idle")) {
                    ch.write(ByteBuffer.wrap(TLS_RECORD));
                }
            } else {
                ch.register(selector, SelectionKey.OP_CONNECT);
            }
            open.put(ch, new Conn());
            return true;
        } catch (IOException e) {
            return false; // out of local ports or fds: try again at the next reopen
        }
    }

    /** A TLS 1.2 ClientHello's first bytes: record header, handshake header, version, 32 random bytes. */
    private static byte[] tlsClientHelloPrefix() {
        ByteBuffer b = ByteBuffer.allocate(5 + 4 + 2 + 32);
        b.put(TLS_RECORD);
        b.put(new byte[] {0x01, 0x00, 0x01, (byte) 0xfc}); // ClientHello, 508 bytes
        b.put(new byte[] {0x03, 0x03});                      // client_version TLS 1.2
        for (int i = 0; i < 32; i++) {
            b.put((byte) i);
        }
        return b.array();
    }
}
