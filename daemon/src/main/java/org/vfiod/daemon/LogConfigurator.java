package org.vfiod.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging set up in code: XML configuration costs logback about 400 ms at start, a third of our budget, and the
 * lines are written by {@link LogLineEncoder} rather than a PatternLayout. Under
 * systemd ({@code JOURNAL_STREAM} set) lines carry journald's {@code <N>} priority prefix and no time, since
 * journald adds its own; elsewhere a person reads them, with a time and a spelled-out level.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        boolean journal = System.getenv("JOURNAL_STREAM") != null;
        LogLineEncoder encoder = new LogLineEncoder(journal);
        encoder.setContext(context);
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
