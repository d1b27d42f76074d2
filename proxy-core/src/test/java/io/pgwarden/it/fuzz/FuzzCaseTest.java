package io.pgwarden.it.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A failing case is replayed from its seed and number alone, so both must fix every byte and every choice. */
class FuzzCaseTest {

    @Test
    void aCaseIsAFunctionOfItsSeedAndNumber() {
        for (long index = 0; index < 2_000; index++) {
            FuzzCase once = FuzzCase.derive(42, index);
            FuzzCase again = FuzzCase.derive(42, index);
            assertThat(again.stream()).isEqualTo(once.stream());
            assertThat(again.login().startup()).isEqualTo(once.login().startup());
            assertThat(again.splits()).isEqualTo(once.splits());
            assertThat(again.changes()).isEqualTo(once.changes());
            assertThat(again.startupSeed()).isEqualTo(once.startupSeed());
            assertThat(again.victimStep()).isEqualTo(once.victimStep());
            assertThat(again.closeAt()).isEqualTo(once.closeAt());
        }
    }

    @Test
    void casesDifferFromOneNumberToTheNextAndCoverEveryKind() {
        Set<String> streams = new HashSet<>();
        Set<FuzzCase.Kind> kinds = new HashSet<>();
        int untouched = 0;
        int brokenLogins = 0;
        for (long index = 0; index < 2_000; index++) {
            FuzzCase c = FuzzCase.derive(7, index);
            streams.add(Wire.hex(c.stream()));
            kinds.add(c.kind());
            untouched += c.changes().isEmpty() ? 1 : 0;
            brokenLogins += c.victimStep() >= 0 ? 1 : 0;
        }
        assertThat(streams).hasSizeGreaterThan(1_900);
        assertThat(kinds).containsExactlyInAnyOrder(FuzzCase.Kind.values());
        // Some valid conversations too: a proxy that broke on valid input would otherwise hide among the rest.
        assertThat(untouched).as("cases left as generated").isBetween(10, 300);
        assertThat(brokenLogins).as("cases with a broken login write").isBetween(300, 700);
    }
}
