package org.vfiod.daemon.binding;

/** A write or check that failed; not a BindingException yet, because the rollback decides the final message. */
final class StepFailed extends Exception {
    private static final long serialVersionUID = 1L;
    final String step;
    final String why;

    StepFailed(String step, String why) {
        super(step + ": " + why, null, false, false);
        this.step = step;
        this.why = why;
    }
}
