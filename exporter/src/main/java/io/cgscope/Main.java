package io.cgscope;

import io.cgscope.config.Config;
import io.cgscope.config.ConfigException;
import io.cgscope.config.Flags;
import io.cgscope.linux.Arch;
import io.cgscope.log.Logging;

import java.io.PrintStream;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Wiring only: flags -> components -> start, and the shutdown order. Exit status: 0 after a
 * clean stop (SIGTERM, SIGINT), 1 when a component cannot start (or on a CPU architecture cgscope
 * has no system call table for: {@link Arch}), 2 for a bad flag.
 */
public final class Main {
    private static final Logger LOG = Logger.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Flags.Command command;
        try {
            command = Flags.parse(args);
        } catch (ConfigException e) {
            err.println("cgscope: " + e.getMessage());
            return 2;
        }
        switch (command) {
            case Flags.Help h -> {
                out.print(Flags.usage());
                return 0;
            }
            case Flags.Version v -> {
                out.println(BuildInfo.load());
                return 0;
            }
            case Flags.Run r -> {
                return serve(r.config(), err);
            }
        }
    }

    private static int serve(Config config, PrintStream err) {
        if (!Arch.supported()) {
            // Before anything touches the kernel: a system call number of another architecture is another call.
            err.println("cgscope: " + Arch.unsupportedMessage());
            return 1;
        }
        Logging.configure(config.logLevel(), config.logFormat());
        Agent agent;
        try {
            agent = new Agent(config, BuildInfo.load());
        } catch (StartupException e) {
            err.println("cgscope: " + e.getMessage());
            return e.exitCode();
        }
        // Before the start: a SIGTERM while components start (a rollout that changes its mind) waits for
        // start() to return (both are synchronized) and stops cleanly with 0, instead of the JVM's 143.
        Shutdown.onSignals(agent::stop);
        try {
            agent.start();
        } catch (StartupException e) {
            err.println("cgscope: " + e.getMessage());
            LOG.log(Level.FINE, "start-up failed", e);
            agent.stop();
            return e.exitCode();
        }
        agent.awaitStop();
        return 0;
    }
}
