package io.cgscope.bpf;

/**
 * A created map of the loaded object: name, fd and sizes. The fd belongs to the bpf_object and
 * is closed with it.
 */
record BpfMap(String name, int fd, int valueSize, int maxEntries) {
}
