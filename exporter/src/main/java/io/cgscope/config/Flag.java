package io.cgscope.config;

/**
 * One command-line flag, Prometheus exporter style: {@code --name=value}, {@code --name value},
 * and for booleans also {@code --name} and {@code --no-name}.
 */
record Flag(String name, String metavar, String defaultValue, boolean isBoolean, String help) {
    static Flag value(String name, String metavar, String defaultValue, String help) {
        return new Flag(name, metavar, defaultValue, false, help);
    }

    static Flag bool(String name, boolean defaultValue, String help) {
        return new Flag(name, null, Boolean.toString(defaultValue), true, help);
    }
}
