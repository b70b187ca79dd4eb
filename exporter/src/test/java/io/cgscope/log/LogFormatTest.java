package io.cgscope.log;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogFormatTest {
    private static LogRecord record(String msg) {
        LogRecord r = new LogRecord(Level.WARNING, msg);
        r.setLoggerName("io.cgscope.index.CgroupIndex");
        r.setMillis(1_764_072_000_123L);
        return r;
    }

    @Test
    void jsonLinesParseBackWithEveryCharacter() {
        String msg = "path \"a b\"\\c\n\ttab \u0001 Grüße";
        String line = new Logging.JsonFormatter().format(record(msg));
        assertTrue(line.endsWith("}\n") && line.indexOf('\n') == line.length() - 1, line);
        JsonObject o = new JsonObject(line);
        assertEquals(msg, o.getString("msg"));
        assertEquals("warn", o.getString("level"));
        assertEquals("CgroupIndex", o.getString("logger"));
        assertEquals("2025-11-25T12:00:00.123Z", o.getString("ts"));
    }

    @Test
    void logfmtQuotesOneLine() {
        String line = new Logging.LogfmtFormatter().format(record("a \"b\"\nc"));
        assertEquals("ts=2025-11-25T12:00:00.123Z level=warn logger=CgroupIndex msg=\"a \\\"b\\\"\\nc\"\n", line);
    }
}
