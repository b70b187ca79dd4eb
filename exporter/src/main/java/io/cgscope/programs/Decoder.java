package io.cgscope.programs;

/**
 * One step of a label's decoder chain, as ebpf_exporter defines it: bytes in (the key's field, or
 * the previous decoder's output), bytes out (the next decoder's input, or the label value as
 * UTF-8). Implementations are pure or read host tables loaded at start; thread-confined (the
 * collector decodes on one thread).
 */
interface Decoder {
    /**
     * @throws DecodeException the input cannot be decoded (counted in {@code cgscope_user_decoder_errors_total})
     * @throws Skip            the label set is not wanted (a {@code regexp} decoder matched nothing)
     */
    byte[] decode(byte[] in) throws DecodeException, Skip;

    /** A decoder's input it cannot make sense of. */
    final class DecodeException extends Exception {
        DecodeException(String message) {
            super(message, null, false, false);
        }
    }

    /** The label set is to be dropped without an error (ebpf_exporter's ErrSkipLabelSet). */
    final class Skip extends Exception {
        static final Skip INSTANCE = new Skip();

        private Skip() {
            super("skip this label set", null, false, false);
        }
    }
}
