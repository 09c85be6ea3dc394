package org.vfiod.daemon.operations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfiod.daemon.auth.CallerCredentials;
import org.vfiod1.Error;

class CallLimitsTest {
    static final CallerCredentials ROOT = new CallerCredentials(0, 1);
    static final CallerCredentials ALICE = new CallerCredentials(1000, 2);
    static final CallerCredentials BOB = new CallerCredentials(1001, 3);

    @Test
    void oneUidBeyondItsAllowanceIsBusyAloneAndGetsItBackAsCallsReturn() {
        CallLimits limits = new CallLimits(8, 4);
        List<CallLimits.Permit> alices = new ArrayList<>();
        for (int i = 0; i < CallLimits.PER_UID; i++) alices.add(limits.admit(ALICE));
        assertThrows(Error.Busy.class, () -> limits.admit(ALICE));
        limits.admit(BOB).close();
        limits.admit(ROOT).close();
        alices.remove(0).close();
        alices.add(limits.admit(ALICE));
        alices.forEach(CallLimits.Permit::close);
        assertEquals(0, limits.inFlight(ALICE.uid()));
    }

    @Test
    void aPermitClosedTwiceGivesBackOnce() {
        CallLimits limits = new CallLimits(8, 4);
        CallLimits.Permit first = limits.admit(ALICE);
        CallLimits.Permit second = limits.admit(ALICE);
        first.close();
        first.close();
        assertEquals(1, limits.inFlight(ALICE.uid()));
        second.close();
    }

    @Test
    void authorizedUsersAndRootNeverWaitForOthers() {
        CallLimits limits = new CallLimits(2, 1);
        // two users at their full allowance: a third, authorized user still gets through (nothing shared to take)
        for (int i = 0; i < CallLimits.PER_UID; i++) {
            limits.admit(ALICE);
            limits.admit(BOB);
        }
        limits.admit(new CallerCredentials(1002, 4)).close();
        // the unauthorized reads share their slots; root takes none
        limits.examination(ALICE);
        assertThrows(Error.Busy.class, () -> limits.examination(BOB));
        assertThrows(Error.Busy.class, () -> limits.examination(null));
        limits.examination(ROOT).close();
        for (int i = 0; i < 2; i++) limits.admit(ROOT);
        assertThrows(Error.Busy.class, () -> limits.admit(ROOT), "root's own allowance is the number of changes");
    }
}
