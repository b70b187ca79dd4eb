package io.cgscope.config;

/** A bad flag or flag value. {@code Main} prints the message as one line and exits with status 2. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
