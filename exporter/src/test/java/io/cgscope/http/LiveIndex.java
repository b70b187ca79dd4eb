package io.cgscope.http;

import io.cgscope.IndexComponent;
import io.cgscope.StartupException;
import io.cgscope.config.Config;
import io.cgscope.config.ConfigException;
import io.cgscope.config.Flags;
import io.cgscope.index.CgroupIndex;

/** The real index (fanotify on the host's cgroup2 hierarchy) with the HTTP API over it, in this JVM. */
final class LiveIndex implements AutoCloseable {
    final CgroupIndex index;
    final IndexComponent component;
    final TestServer server;

    LiveIndex(String... httpFlags) {
        try {
            Config config = ((Flags.Run) Flags.parse("--cgroup.index-mode=fanotify")).config();
            index = new CgroupIndex(config.retention());
            component = new IndexComponent(config, index);
            component.start();
        } catch (ConfigException | StartupException e) {
            throw new IllegalStateException(e);
        }
        server = new TestServer(index, httpFlags);
    }

    @Override
    public void close() {
        server.close();
        component.stop();
    }
}
