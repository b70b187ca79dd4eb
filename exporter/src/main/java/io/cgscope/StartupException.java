package io.cgscope;

/** A component could not start; the message is the one line the user sees. */
public final class StartupException extends Exception {
    private final int exitCode;

    public StartupException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public StartupException(String message, Throwable cause) {
        this(message, 1, cause);
    }

    /** 2 for a configuration the user can fix by changing a flag, 1 otherwise. */
    public int exitCode() {
        return exitCode;
    }
}
