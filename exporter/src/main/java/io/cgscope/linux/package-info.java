/**
 * The only package that links libc (Panama FFM): small typed bindings ({@code Libc},
 * {@code Credentials}, {@code FileHandles}, {@code PerfEvents}, {@code Poller}), errno and
 * {@code SyscallException}, an {@code Fd} that closes once, C paths, and {@code Arch}: every
 * number that differs between CPU architectures.
 *
 * <p>Imports no cgscope package. Expected errnos (EINTR, EAGAIN, ENOENT from a race) are results,
 * the rest a {@code SyscallException} naming the call.
 */
package io.cgscope.linux;
