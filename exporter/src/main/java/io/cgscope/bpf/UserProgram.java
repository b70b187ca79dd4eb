package io.cgscope.bpf;

/**
 * One program of a user object: its name and section, and whether it is loaded and attached
 * ({@code reason} says why not, with libbpf's words).
 */
public record UserProgram(String name, String section, boolean up, String reason) {
}
