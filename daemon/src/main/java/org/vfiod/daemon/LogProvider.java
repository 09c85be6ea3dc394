package org.vfiod.daemon;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The daemon's slf4j provider (named by {@code slf4j.provider}, which {@link Main} sets): logback's context,
 * configured by {@link LogConfigurator} directly. logback's own provider gets there through its ContextInitializer,
 * which looks configurators up with a ServiceLoader, checks versions and logs its own duration (a string
 * concatenation whose bootstrap spins some 20 method-handle classes), then builds a date formatter for a status
 * report there is nothing to put in: about 15 ms of a start. Elsewhere (tests, {@code vfiod resolve}) logback's
 * provider runs and finds {@link LogConfigurator} as a service, with the same result.
 */
public final class LogProvider implements SLF4JServiceProvider {
    private final LoggerContext context = new LoggerContext();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final LogbackMDCAdapter mdc = new LogbackMDCAdapter();

    @Override
    public void initialize() {
        context.setName("default");
        context.setMDCAdapter(mdc);
        LogConfigurator configurator = new LogConfigurator();
        configurator.setContext(context);
        configurator.configure(context);
        context.start();
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return context;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }
}
