package org.vfiod.it;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension for the real-components tests. Per test class: checks the {@link Prerequisites}, starts a
 * private system bus and polkitd ({@link Harness}). Per test: a fresh simulated sysfs and whatever vfiod processes,
 * monitors and clients the test starts ({@link Env}, injected as a parameter), all ended after the test.
 */
public final class RealComponents implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback,
        ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RealComponents.class);
    private static final String SKIP = "missing prerequisites";

    @Override
    public void beforeAll(ExtensionContext context) {
        // with CI=true this throws: the class fails
        String missing = Prerequisites.missing();
        if (missing != null) {
            // each test is then reported as skipped, with the reason
            context.getStore(NS).put(SKIP, missing);
            return;
        }
        context.getStore(NS).put(Harness.class, Harness.start());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Harness h = context.getStore(NS).remove(Harness.class, Harness.class);
        if (h != null) h.close();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        String skip = context.getStore(NS).get(SKIP, String.class);
        if (skip != null) Assumptions.abort(skip);
        String gone = Prerequisites.polkitFilesMissing();
        if (gone != null) Assumptions.abort(gone);
        Harness h = harness(context);
        String name = context.getRequiredTestMethod().getName() + (context.getDisplayName().startsWith("[")
                ? "-" + context.getDisplayName().replaceAll("^\\[(\\d+)\\].*", "$1") : "");
        context.getStore(NS).put(Env.class, new Env(h, h.newTestDir(name)));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Env env = context.getStore(NS).remove(Env.class, Env.class);
        if (env == null) return;
        boolean failed = context.getExecutionException().isPresent();
        if (failed) {
            harness(context).keep();
            System.err.println(env.diagnostics(context.getDisplayName()));
        }
        env.close();
    }

    private static Harness harness(ExtensionContext context) {
        // a store sees its parents' values: the class's harness is visible from each test
        Harness h = context.getStore(NS).get(Harness.class, Harness.class);
        if (h == null) throw new IllegalStateException("RealComponents must be registered on the test class");
        return h;
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == Env.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return extensionContext.getStore(NS).get(Env.class, Env.class);
    }
}
