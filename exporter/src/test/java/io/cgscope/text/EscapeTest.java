package io.cgscope.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each format's rules, on the characters a cgroup name may hold. */
class EscapeTest {
    private static final String NAME = "a \"b\" \\ c\nd\re\tf\u0001g\u007fh\u2028i<j>&'k Grüße \ud800";

    @Test
    void json() {
        assertEquals("\"a \\\"b\\\" \\\\ c\\nd\\re\\tf\\u0001g\\u007fh\\u2028i<j>&'k Grüße \\ud800\"",
                Escape.json(new StringBuilder(), NAME).toString());
        assertEquals("\"\ud83d\ude00\"", Escape.json(new StringBuilder(), "\ud83d\ude00").toString(), "a valid pair stays");
    }

    @Test
    void logfmt() {
        assertEquals("\"a \\\"b\\\" \\\\ c\\nd\re\tf\u0001g\u007fh\u2028i<j>&'k Grüße \ud800\"",
                Escape.logfmt(new StringBuilder(), NAME).toString());
    }

    @Test
    void html() {
        assertEquals("a &quot;b&quot; \\ c\nd\re\tf\u0001g\u007fh\u2028i&lt;j&gt;&amp;&#39;k Grüße \ud800", Escape.html(NAME));
    }
}
