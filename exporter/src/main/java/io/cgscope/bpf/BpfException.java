package io.cgscope.bpf;

/** Loading, attaching or reading BPF failed; the message names the call and libbpf's reason. */
public final class BpfException extends Exception {
    public BpfException(String message) {
        super(message);
    }

    public BpfException(String message, Throwable cause) {
        super(message, cause);
    }
}
