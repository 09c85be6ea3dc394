package org.vfiod.daemon.binding;

/**
 * What a move started before its caller was authorized waits for before it changes anything: its plan and its
 * host-use check run beside the polkit check, and nothing is loaded or written until this returns.
 */
@FunctionalInterface
public interface GoAhead {
    /** The caller is authorized already: the move checks everything itself, under its group's gate. */
    GoAhead ALREADY = () -> {
    };

    /** Returns once the move may go on; throws when it must stop, before any change. */
    void await() throws BindingException;
}
