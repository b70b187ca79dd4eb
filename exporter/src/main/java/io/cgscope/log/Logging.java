package io.cgscope.log;

import io.cgscope.text.Escape;

import java.io.OutputStream;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * Log lines on stderr in {@code logfmt} or JSON, the way Prometheus exporters write them:
 * {@code ts=2026-11-25T12:00:00.123Z level=info logger=index msg="..."}. Built on
 * java.util.logging, which Vert.x and Netty also log through, so their lines look the same.
 */
public final class Logging {
    private Logging() {
    }

    public static void configure(String level, String format) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Level jul = julLevel(level);
        root.setLevel(jul);
        Handler handler = new StderrHandler(format.equals("json") ? new JsonFormatter() : new LogfmtFormatter());
        handler.setLevel(jul);
        root.addHandler(handler);
        // Netty and Vert.x are chatty at FINE; keep them at INFO unless debug is asked for.
        if (jul.intValue() < Level.INFO.intValue()) {
            Logger.getLogger("io.netty").setLevel(Level.INFO);
        }
    }

    static Level julLevel(String level) {
        return switch (level) {
            case "debug" -> Level.FINE;
            case "warn" -> Level.WARNING;
            case "error" -> Level.SEVERE;
            default -> Level.INFO;
        };
    }

    static String levelName(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "error";
        }
        if (v >= Level.WARNING.intValue()) {
            return "warn";
        }
        if (v >= Level.INFO.intValue()) {
            return "info";
        }
        return "debug";
    }

    /** The last dotted part of a logger name: {@code io.cgscope.index.CgroupIndex} -> {@code CgroupIndex}. */
    static String shortName(String logger) {
        if (logger == null) {
            return "";
        }
        return logger.substring(logger.lastIndexOf('.') + 1);
    }

    /**
     * Writes to stderr and never closes it. (A ConsoleHandler given a new stream closes the one it
     * had, System.err itself: every later line on stderr, the one-line start-up errors too, was lost.)
     */
    private static final class StderrHandler extends StreamHandler {
        StderrHandler(Formatter formatter) {
            super(new OutputStream() {
                @Override
                public void write(int b) {
                    System.err.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    System.err.write(b, off, len);
                }

                @Override
                public void flush() {
                    System.err.flush();
                }

                @Override
                public void close() {
                    System.err.flush();
                }
            }, formatter);
        }

        @Override
        public synchronized void publish(LogRecord record) {
            super.publish(record);
            flush();
        }
    }

    static final class LogfmtFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder sb = new StringBuilder(128);
            sb.append("ts=").append(Instant.ofEpochMilli(r.getMillis()));
            sb.append(" level=").append(levelName(r.getLevel()));
            sb.append(" logger=").append(shortName(r.getLoggerName()));
            sb.append(" msg=");
            Escape.logfmt(sb, formatMessage(r));
            if (r.getThrown() != null) {
                sb.append(" err=");
                Escape.logfmt(sb, String.valueOf(r.getThrown()));
            }
            return sb.append('\n').toString();
        }
    }

    /** One JSON object per line; Vert.x's encoder (Jackson) does the escaping. */
    static final class JsonFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            io.vertx.core.json.JsonObject line = new io.vertx.core.json.JsonObject()
                    .put("ts", Instant.ofEpochMilli(r.getMillis()).toString())
                    .put("level", levelName(r.getLevel()))
                    .put("logger", shortName(r.getLoggerName()))
                    .put("msg", formatMessage(r));
            if (r.getThrown() != null) {
                line.put("err", String.valueOf(r.getThrown()));
            }
            return line.encode() + "\n";
        }
    }
}
