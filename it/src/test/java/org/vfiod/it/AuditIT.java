package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every change is logged with who made it: the caller's uid and pid, as the bus knows them. */
@ExtendWith(RealComponents.class)
class AuditIT {
    static final String NIC = "0000:03:00.0";

    @Test
    void aChangeIsLoggedWithItsCallersUidAndPid(Env env) {
        VfiodProcess vfiod = env.vfiod();
        Proc call = env.managerInBackground(User.MEMBER, "Rebind", NIC, "{}");
        Cmd.collect(call, User.MEMBER, List.of("gdbus", "call", "Rebind"), Duration.ofSeconds(30)).assertOk();
        String uid = Cmd.run(User.ROOT, "id", "-u", User.MEMBER.account()).out().strip();

        String line = vfiod.awaitLog("Rebind " + NIC, Duration.ofSeconds(10));
        // setpriv execs gdbus: the process the test started is the caller
        assertTrue(line.contains("uid " + uid + " ") && line.contains("pid " + call.pid() + " "),
                () -> "expected uid " + uid + " and pid " + call.pid() + " in: " + line);
        assertTrue(line.contains("moved"), line);
    }
}
