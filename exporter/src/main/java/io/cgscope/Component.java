package io.cgscope;

/** A part of the agent with a start and a stop; the {@link Agent} starts them in order and stops them in reverse. */
public interface Component {
    /** For logs: {@code index}, {@code bpf}, {@code http}. */
    String name();

    void start() throws StartupException;

    /** Releases everything; never throws; safe to call when {@link #start()} failed or never ran. */
    void stop();
}
