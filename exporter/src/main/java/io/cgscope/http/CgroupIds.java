package io.cgscope.http;

/**
 * Cgroup ids as URLs spell them: decimal ({@code 4711}) or hex with {@code 0x} ({@code 0x1267}),
 * unsigned 64-bit. Anything else, signs and spaces included, is refused with a reason.
 */
final class CgroupIds {
    private CgroupIds() {
    }

    /** The id, or throws a 400 saying what is wrong. */
    static long parse(String text) {
        if (text == null || text.isEmpty()) {
            throw Errors.badRequest("missing cgroup id: expected /cgroup/<id>, decimal or 0x hex");
        }
        boolean hex = text.length() > 2 && text.charAt(0) == '0' && (text.charAt(1) == 'x' || text.charAt(1) == 'X');
        String digits = hex ? text.substring(2) : text;
        int radix = hex ? 16 : 10;
        for (int i = 0; i < digits.length(); i++) {
            if (!isDigit(digits.charAt(i), hex)) {
                throw Errors.badRequest("malformed cgroup id \"" + Errors.echo(text)
                        + "\": expected a decimal number or 0x hex");
            }
        }
        int significant = digits.length();
        for (int i = 0; i < digits.length() - 1 && digits.charAt(i) == '0'; i++) {
            significant--;
        }
        if (significant > (hex ? 16 : 20)) {
            throw outOfRange(text);
        }
        long id;
        try {
            id = Long.parseUnsignedLong(digits.substring(digits.length() - significant), radix);
        } catch (NumberFormatException e) {
            throw outOfRange(text);
        }
        if (id == 0) {
            throw Errors.badRequest("cgroup id 0 is out of range: ids start at 1");
        }
        return id;
    }

    /** ASCII only: {@link Character#digit} would also take other scripts' digits. */
    private static boolean isDigit(char c, boolean hex) {
        return c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
    }

    private static Errors.Refused outOfRange(String text) {
        return Errors.badRequest("cgroup id \"" + Errors.echo(text) + "\" is out of range: ids are unsigned 64-bit");
    }
}
