package io.cgscope.index;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Cgroup names are bytes. Shown as UTF-8; a byte that is not part of valid UTF-8 is shown as
 * {@code \xNN} (two lower-case hex digits). Everything else, spaces, quotes, backslashes included,
 * is shown as it is. The one ambiguity, a valid name that literally contains {@code \xNN}, is
 * handled by {@link #candidates} trying both readings.
 */
public final class CgroupNames {
    private CgroupNames() {
    }

    public static String decode(byte[] name) {
        boolean ascii = true;
        for (byte b : name) {
            if (b < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(name, StandardCharsets.ISO_8859_1); // compact, no decoder needed
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(name);
        CharBuffer out = CharBuffer.allocate(name.length * 4);
        StringBuilder sb = new StringBuilder(name.length + 8);
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            out.flip();
            sb.append(out);
            out.clear();
            if (r.isError()) {
                for (int i = 0; i < r.length(); i++) {
                    sb.append(String.format("\\x%02x", in.get() & 0xff));
                }
            } else {
                break;
            }
        }
        return sb.toString();
    }

    /** The byte names a shown name may stand for: its UTF-8, and with {@code \xNN} read back as bytes. */
    public static List<byte[]> candidates(String shown) {
        List<byte[]> out = new ArrayList<>(2);
        out.add(shown.getBytes(StandardCharsets.UTF_8));
        if (shown.contains("\\x")) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int i = 0;
            boolean changed = false;
            while (i < shown.length()) {
                if (shown.startsWith("\\x", i) && i + 4 <= shown.length()
                        && isHex(shown.charAt(i + 2)) && isHex(shown.charAt(i + 3))) {
                    bytes.write(Integer.parseInt(shown.substring(i + 2, i + 4), 16));
                    i += 4;
                    changed = true;
                } else {
                    int cp = shown.codePointAt(i);
                    bytes.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                    i += Character.charCount(cp);
                }
            }
            if (changed) {
                out.add(bytes.toByteArray());
            }
        }
        return out;
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** Only for tests and messages: a name's bytes as valid UTF-8 or not. */
    static boolean isUtf8(byte[] name) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(name));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
