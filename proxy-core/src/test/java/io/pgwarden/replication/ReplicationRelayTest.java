package io.pgwarden.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which startup packets get a walsender: PostgreSQL's reading of the {@code replication} parameter. */
class ReplicationRelayTest {

    @ParameterizedTest
    @ValueSource(strings = {"database", "true", "on", "yes", "1", "t", "y", "TRUE"})
    void asksForAWalsender(String value) {
        assertThat(ReplicationRelay.isRequested(value)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "off", "no", "0", "f", "n", "of", "OFF"})
    void isAnOrdinaryConnection(String value) {
        assertThat(ReplicationRelay.isRequested(value)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"o", "maybe", "Database"})
    void leavesValuesPostgresqlRejectsToPostgresql(String value) {
        // Routed to a backend of its own, whose login then fails with PostgreSQL's own "invalid value" error.
        assertThat(ReplicationRelay.isRequested(value)).isTrue();
    }

    @org.junit.jupiter.api.Test
    void noParameterIsAnOrdinaryConnection() {
        assertThat(ReplicationRelay.isRequested(null)).isFalse();
    }
}
