package org.vfiod.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.HashMap;
import java.util.Map;

/**
 * Logging set up in code: XML configuration costs logback about 400 ms at start, a third of our budget. Under
 * systemd ({@code JOURNAL_STREAM} set) lines carry journald's {@code <N>} priority prefix and no time, since
 * journald adds its own; elsewhere a person reads them, with a time and a spelled-out level.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        boolean journal = System.getenv("JOURNAL_STREAM") != null;
        @SuppressWarnings("unchecked")
        Map<String, String> rules = (Map<String, String>) context.getObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY);
        if (rules == null) {
            rules = new HashMap<>();
            context.putObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY, rules);
        }
        rules.put("syslog", SyslogPrefix.class.getName());
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(journal ? "%syslog%msg [%logger{0}]%n" : "%d{HH:mm:ss.SSS} %-5level %logger{0}: %msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getProperty("vfiod.log.level", "INFO"), Level.INFO));
        root.addAppender(console);
        context.getLogger("org.freedesktop").setLevel(Level.WARN);
        // dbus-java logs each signal it marshals under the signal class, which lives in our api package
        context.getLogger("org.vfiod1").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
