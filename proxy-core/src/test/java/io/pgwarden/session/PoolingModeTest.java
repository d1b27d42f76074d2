package io.pgwarden.session;

import static io.pgwarden.session.PoolingMode.AtIdle.KEEP;
import static io.pgwarden.session.PoolingMode.AtIdle.READ_BACK_SETTINGS;
import static io.pgwarden.session.PoolingMode.AtIdle.RELEASE;
import static io.pgwarden.session.PoolingMode.AtIdle.UNLISTEN;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.PoolMode;
import io.pgwarden.config.PoolSettings;
import org.junit.jupiter.api.Test;

/** What happens to a backend at a quiet ReadyForQuery idle, as a pure decision. */
class PoolingModeTest {

    @Test
    void settingsAreReadBackFirstThenListenersRemovedThenTheBackendGoes() {
        assertThat(PoolingMode.atIdle(false, true, true)).isEqualTo(READ_BACK_SETTINGS);
        assertThat(PoolingMode.atIdle(false, false, true)).isEqualTo(UNLISTEN);
        assertThat(PoolingMode.atIdle(false, false, false)).isEqualTo(RELEASE);
    }

    @Test
    void aClientThatKeepsItsBackendOnlyHasItsSettingsReadBack() {
        assertThat(PoolingMode.atIdle(true, true, false)).isEqualTo(READ_BACK_SETTINGS);
        assertThat(PoolingMode.atIdle(true, false, true)).isEqualTo(KEEP);
        assertThat(PoolingMode.atIdle(true, false, false)).isEqualTo(KEEP);
    }

    @Test
    void theModeIsChosenFromTheSettingsAtLoginAndSessionModeResetsItsBackend() {
        PoolSettings defaults = PoolSettings.defaults();
        PoolSettings session = new PoolSettings(PoolMode.SESSION, 0, 1, defaults.queryWaitTimeout(),
                defaults.serverResetQuery(), 1, defaults.server(), defaults.client(), defaults.queryTimeout(),
                defaults.queryWaitNotice());
        PoolingMode transaction = PoolingMode.of(defaults, new StatementNames(1L << 30, 1L << 30));
        PoolingMode sessionMode = PoolingMode.of(session, new StatementNames(1L << 30, 1L << 30));

        assertThat(transaction).isInstanceOf(TransactionPooling.class);
        assertThat(transaction.keepsBackend()).isFalse();
        assertThat(transaction.resetsWithQuery()).isFalse();
        assertThat(transaction.atIdle()).isEqualTo(RELEASE);
        assertThat(sessionMode).isInstanceOf(SessionPooling.class);
        assertThat(sessionMode.keepsBackend()).isTrue();
        assertThat(sessionMode.resetsWithQuery()).isTrue();
        assertThat(sessionMode.atIdle()).isEqualTo(KEEP);
    }
}
