package io.cgscope.http;

import io.cgscope.BuildInfo;
import io.cgscope.StartupException;
import io.cgscope.bpf.CounterSource;
import io.cgscope.config.ConfigException;
import io.cgscope.config.Flags;
import io.cgscope.index.CgroupIndex;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.hotspot.DefaultExports;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real HTTP server on an ephemeral loopback port, over a given index, with its own registry. */
final class TestServer implements AutoCloseable {
    final CollectorRegistry registry = new CollectorRegistry(true);
    final HttpComponent http;
    final Client client;

    TestServer(CgroupIndex index, String... flags) {
        this(index, EventStreamsDefaults.HEARTBEAT, EventStreamsDefaults.STALL, flags);
    }

    TestServer(CgroupIndex index, Duration heartbeat, Duration stallLimit, String... flags) {
        this(index, null, heartbeat, stallLimit, flags);
    }

    /** {@code counters}: what {@code /api/top} reads its rates from (null: none). */
    TestServer(CgroupIndex index, CounterSource counters, String... flags) {
        this(index, counters, EventStreamsDefaults.HEARTBEAT, EventStreamsDefaults.STALL, flags);
    }

    private TestServer(CgroupIndex index, CounterSource counters, Duration heartbeat, Duration stallLimit,
                       String... flags) {
        List<String> args = new ArrayList<>(List.of("--web.listen-address=127.0.0.1:0"));
        args.addAll(List.of(flags));
        try {
            var config = ((Flags.Run) Flags.parse(args.toArray(String[]::new))).config();
            DefaultExports.register(registry);
            http = new HttpComponent(config, registry, new BuildInfo("1.2.3", "abcdef"), index, heartbeat, stallLimit,
                    counters);
            http.start();
        } catch (ConfigException | StartupException e) {
            throw new IllegalStateException(e);
        }
        client = new Client(http.port());
    }

    int port() {
        return http.port();
    }

    @Override
    public void close() {
        client.close();
        http.stop();
    }

    static final class EventStreamsDefaults {
        static final Duration HEARTBEAT = EventStreams.HEARTBEAT;
        static final Duration STALL = EventStreams.STALL_LIMIT;
    }
}
