package org.vfiod.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;

/**
 * One log line, written by hand: logback's PatternLayout parses its pattern and loads a converter class per
 * element, some 60 ms of a start-up whose budget is 600. For journald ({@code journal}): {@code <N>message
 * [Logger]}, the priority prefix journald reads and no time (it adds its own). For a person:
 * {@code HH:mm:ss.SSS LEVEL Logger: message}.
 */
public final class LogLineEncoder extends EncoderBase<ILoggingEvent> {
    private final boolean journal;
    private final ZoneId zone = ZoneId.systemDefault();

    public LogLineEncoder(boolean journal) {
        this.journal = journal;
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(128);
        String logger = event.getLoggerName();
        String shortName = logger.substring(logger.lastIndexOf('.') + 1);
        if (journal) {
            line.append(priority(event.getLevel())).append(event.getFormattedMessage()).append(" [").append(shortName).append(']');
        } else {
            LocalTime t = LocalTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), zone);
            two(line, t.getHour()).append(':');
            two(line, t.getMinute()).append(':');
            two(line, t.getSecond()).append('.');
            int ms = t.getNano() / 1_000_000;
            if (ms < 100) line.append('0');
            if (ms < 10) line.append('0');
            line.append(ms).append(' ');
            String level = event.getLevel().toString();
            line.append(level);
            for (int i = level.length(); i < 5; i++) line.append(' ');
            line.append(' ').append(shortName).append(": ").append(event.getFormattedMessage());
        }
        line.append('\n');
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) line.append(ThrowableProxyUtil.asString(thrown)).append('\n');
        return line.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** journald's priority prefix: err, warning, info, debug. */
    static String priority(Level level) {
        int l = level.toInt();
        if (l >= Level.ERROR_INT) return "<3>";
        if (l >= Level.WARN_INT) return "<4>";
        if (l >= Level.INFO_INT) return "<6>";
        return "<7>";
    }

    private static StringBuilder two(StringBuilder b, int v) {
        if (v < 10) b.append('0');
        return b.append(v);
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }
}
