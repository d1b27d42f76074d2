package io.pgwarden.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.backend.LossCounters;
import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.backend.ScriptedBackends;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.config.ClusterSettings;
import io.pgwarden.config.HostPort;
import io.pgwarden.config.ServerSettings;
import io.pgwarden.config.TargetSessionAttrs;
import io.pgwarden.harness.Later;
import io.pgwarden.harness.Wire;
import io.pgwarden.metrics.EventLog;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A server before PostgreSQL 14 reports neither in_hot_standby nor default_transaction_read_only at login (the
 * scripted backends report neither): pgwarden asks it, as libpq does, and judges target_session_attrs by the
 * answer, which it trusts no more than any other message from a server.
 */
class RoleQueryTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private final Later later = new Later();
    private final ScriptedBackends backends = new ScriptedBackends(ALLOC, new LossCounters(), (pool, detail) -> {
    }, later);

    @AfterEach
    void finish() {
        backends.finishAll();
    }

    private CompletableFuture<BackendConnection> open(TargetSessionAttrs attrs) {
        ClusterSettings settings = new ClusterSettings(List.of(new HostPort("127.0.0.1", 5432)), attrs,
                ClusterSettings.DEFAULT_FAILOVER_TIMEOUT);
        ClusterOpener opener = new ClusterOpener(backends, new Cluster("appdb", settings, new EventLog(10)));
        return opener.connect(null, new BackendConnector.Target("127.0.0.1", 5432, "appdb", "app", "secret",
                ServerSettings.defaults()));
    }

    /** Logs the backend in and returns it once pgwarden has asked its role. */
    private ScriptedBackend loggedInAndAsked() {
        ScriptedBackend server = backends.accept();
        assertThat(server.received()).containsExactly("Query(" + RoleQuery.SQL + ")");
        return server;
    }

    private static String failure(CompletableFuture<BackendConnection> open) {
        assertThat(open).isCompletedExceptionally();
        try {
            open.get();
            throw new AssertionError("the open succeeded");
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(BackendLoginException.class);
            return e.getCause().getMessage();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] answer(String inRecovery, String readOnly) {
        return Wire.concat(Wire.rowDescription("pg_is_in_recovery", "current_setting"),
                Wire.dataRow(inRecovery, readOnly), Wire.commandComplete("SELECT 1"), Wire.readyForQuery('I'));
    }

    @Test
    void aPrimaryThatAnswersItIsNotInRecoveryServesReadWrite() throws Exception {
        CompletableFuture<BackendConnection> open = open(TargetSessionAttrs.READ_WRITE);
        ScriptedBackend server = loggedInAndAsked();
        assertThat(open).isNotDone();
        server.send(answer("f", "off"));
        assertThat(open).isCompleted();
        assertThat(open.get().roleAtLogin()).isEqualTo(new ServerRole(false, false));
        assertThat(server.isOpen()).isTrue();
    }

    @Test
    void aStandbyByItsAnswerIsRefusedForReadWriteAndTakenForStandby() throws Exception {
        CompletableFuture<BackendConnection> refused = open(TargetSessionAttrs.READ_WRITE);
        ScriptedBackend standby = loggedInAndAsked();
        standby.send(answer("t", "on"));
        assertThat(failure(refused)).contains("is a standby");
        assertThat(standby.isOpen()).isFalse();

        CompletableFuture<BackendConnection> taken = open(TargetSessionAttrs.STANDBY);
        loggedInAndAsked().send(answer("t", "on"));
        assertThat(taken.get().roleAtLogin()).isEqualTo(new ServerRole(true, true));
    }

    @Test
    void aReadOnlyPrimaryByItsAnswerServesReadOnly() throws Exception {
        CompletableFuture<BackendConnection> open = open(TargetSessionAttrs.READ_ONLY);
        loggedInAndAsked().send(answer("f", "on"));
        assertThat(open.get().roleAtLogin().describe()).isEqualTo("read-only primary");
    }

    @Test
    void anyDoesNotAsk() throws Exception {
        CompletableFuture<BackendConnection> open = open(TargetSessionAttrs.ANY);
        ScriptedBackend server = backends.accept();
        assertThat(open).isCompleted();
        assertThat(server.received()).isEmpty();
        assertThat(open.get().roleAtLogin()).isNull();
    }

    @Test
    void anAnswerThatIsNotTheExpectedRowFailsTheOpenAndClosesTheBackend() {
        List<byte[]> wrong = List.of(
                answer("yes", "off"),
                answer("f", null),
                Wire.concat(Wire.rowDescription("a"), Wire.dataRow("f"), Wire.commandComplete("SELECT 1"),
                        Wire.readyForQuery('I')),
                Wire.concat(Wire.rowDescription("a", "b"), Wire.commandComplete("SELECT 0"), Wire.readyForQuery('I')),
                Wire.concat(Wire.rowDescription("a", "b"), Wire.dataRow("f", "off"), Wire.dataRow("t", "on"),
                        Wire.commandComplete("SELECT 2"), Wire.readyForQuery('I')),
                Wire.concat(Wire.authenticationOk()),
                Wire.concat(Wire.rowDescription("a", "b"), Wire.dataRow("f", "off"), Wire.commandComplete("SELECT 1"),
                        Wire.readyForQuery('T')));
        for (byte[] answer : wrong) {
            CompletableFuture<BackendConnection> open = open(TargetSessionAttrs.READ_WRITE);
            ScriptedBackend server = loggedInAndAsked();
            server.send(answer);
            assertThat(open).as(Wire.split(answer).stream().map(Wire::describeBackend).toList().toString())
                    .isCompletedExceptionally();
            assertThat(failure(open)).contains("the server's role");
            assertThat(server.isOpen()).isFalse();
        }
    }

    @Test
    void anErrorOrACloseFailsTheOpenWithTheReason() {
        CompletableFuture<BackendConnection> refused = open(TargetSessionAttrs.PRIMARY);
        ScriptedBackend server = loggedInAndAsked();
        server.send(Wire.error("42501", "permission denied for function pg_is_in_recovery"),
                Wire.readyForQuery('I'));
        assertThat(failure(refused)).contains("permission denied for function pg_is_in_recovery");
        assertThat(server.isOpen()).isFalse();

        CompletableFuture<BackendConnection> closed = open(TargetSessionAttrs.PRIMARY);
        loggedInAndAsked().closeSocket();
        assertThat(failure(closed)).contains("closed the connection when asked its role");
    }
}
