package io.cgscope;

import sun.misc.Signal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * SIGTERM and SIGINT stop cgscope cleanly with exit status 0: the JVM's own handling would run
 * shutdown hooks and then exit 143 (128 + SIGTERM), which systemd and Kubernetes report as a failure.
 */
final class Shutdown {
    private static final Logger LOG = Logger.getLogger(Shutdown.class.getName());
    private static final AtomicBoolean STOPPING = new AtomicBoolean();

    private Shutdown() {
    }

    static void onSignals(Runnable stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> {
                if (STOPPING.compareAndSet(false, true)) {
                    LOG.info("received SIG" + signal.getName() + ", stopping");
                    // Not on the signal dispatcher thread: stopping joins threads that may log.
                    Thread.ofPlatform().name("cgscope-shutdown").start(() -> {
                        stop.run();
                        System.exit(0);
                    });
                }
            });
        }
    }
}
