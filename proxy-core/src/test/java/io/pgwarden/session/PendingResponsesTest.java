package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.protocol.Tags;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every backend response goes where the request it answers came from, in the server's order. */
class PendingResponsesTest {

    private final PendingResponses pending = new PendingResponses();

    @Test
    void aSimpleQueryIsOwedUntilItsReadyForQuery() {
        pending.clientSent(Tags.Frontend.QUERY);
        assertThat(pending.onBackendMessage(Tags.Backend.ROW_DESCRIPTION)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.isQuiet()).isFalse();
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void anExtendedBatchWithoutSyncKeepsTheBackendEvenWhenAllItsAnswersArrived() {
        pending.clientSent(Tags.Frontend.PARSE);
        pending.clientSent(Tags.Frontend.DESCRIBE);
        pending.clientSent(Tags.Frontend.FLUSH);
        pending.onBackendMessage(Tags.Backend.PARSE_COMPLETE);
        pending.onBackendMessage(Tags.Backend.PARAMETER_DESCRIPTION);
        pending.onBackendMessage(Tags.Backend.ROW_DESCRIPTION);
        assertThat(pending.isQuiet()).as("Sync not sent yet").isFalse();
        pending.clientSent(Tags.Frontend.SYNC);
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void aSyntheticParseCompleteWaitsForTheAnswersBeforeIt() {
        pending.clientSent(Tags.Frontend.BIND);
        pending.clientSent(Tags.Frontend.EXECUTE);
        pending.addSynthetic(PendingResponses.Kind.PARSE, Tags.Backend.PARSE_COMPLETE);
        pending.clientSent(Tags.Frontend.SYNC);
        assertThat(pending.pollSynthetic()).as("not its turn yet").isZero();
        pending.onBackendMessage(Tags.Backend.BIND_COMPLETE);
        pending.onBackendMessage(Tags.Backend.DATA_ROW);
        assertThat(pending.pollSynthetic()).isZero();
        pending.onBackendMessage(Tags.Backend.COMMAND_COMPLETE);
        assertThat(pending.pollSynthetic()).isEqualTo(Tags.Backend.PARSE_COMPLETE);
        assertThat(pending.pollSynthetic()).isZero();
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void responsesToHiddenRequestsAreDroppedButNoticesStillReachTheClient() {
        pending.addHidden(PendingResponses.Kind.QUERY, false, null);
        pending.clientSent(Tags.Frontend.QUERY);
        assertThat(pending.onBackendMessage(Tags.Backend.COMMAND_COMPLETE)).isEqualTo(PendingResponses.Action.DROP);
        assertThat(pending.onBackendMessage(Tags.Backend.PARAMETER_STATUS)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.onBackendMessage(Tags.Backend.NOTICE_RESPONSE)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY)).isEqualTo(PendingResponses.Action.DROP);
        assertThat(pending.onBackendMessage(Tags.Backend.COMMAND_COMPLETE)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void anErrorSkipsTheRestOfTheBatchUpToSyncAndForgetsSkippedParses() {
        List<String> forgotten = new ArrayList<>();
        pending.clientSent(Tags.Frontend.BIND);
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.PARSE, PendingResponses.Route.HIDDEN, (byte) 0,
                true, null, () -> forgotten.add("injected parse")));
        pending.addSynthetic(PendingResponses.Kind.PARSE, Tags.Backend.PARSE_COMPLETE);
        pending.clientSent(Tags.Frontend.EXECUTE);
        pending.clientSent(Tags.Frontend.SYNC);

        assertThat(pending.onBackendMessage(Tags.Backend.ERROR_RESPONSE)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(forgotten).containsExactly("injected parse");
        assertThat(pending.pollSynthetic()).as("PostgreSQL answers nothing after an error until Sync").isZero();
        assertThat(pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void anErrorInAHiddenParseIsShownToTheClient() {
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.PARSE, PendingResponses.Route.HIDDEN, (byte) 0,
                true, null, null));
        pending.clientSent(Tags.Frontend.BIND);
        pending.clientSent(Tags.Frontend.SYNC);
        assertThat(pending.onBackendMessage(Tags.Backend.ERROR_RESPONSE)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY)).isEqualTo(PendingResponses.Action.FORWARD);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void errorsInsideASimpleQueryStillWaitForItsReadyForQuery() {
        pending.clientSent(Tags.Frontend.QUERY);
        pending.onBackendMessage(Tags.Backend.ERROR_RESPONSE);
        assertThat(pending.isQuiet()).isFalse();
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void copyResponsesBelongToTheQueryThatStartedTheCopy() {
        pending.clientSent(Tags.Frontend.QUERY);
        pending.onBackendMessage(Tags.Backend.COPY_IN_RESPONSE);
        pending.clientSent(Tags.Frontend.COPY_DATA);
        pending.clientSent(Tags.Frontend.COPY_DONE);
        pending.onBackendMessage(Tags.Backend.COMMAND_COMPLETE);
        assertThat(pending.isQuiet()).isFalse();
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.isQuiet()).isTrue();
    }

    @Test
    void theClientIsOwedNothingWhileOnlyPgwardensOwnRequestsAreOutstanding() {
        pending.addHidden(PendingResponses.Kind.SYNC, false, null);
        assertThat(pending.clientOwedNothing()).as("only the check Sync").isTrue();
        pending.clientSent(Tags.Frontend.QUERY);
        assertThat(pending.clientOwedNothing()).isFalse();
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.clientOwedNothing()).as("the Sync answered, the query not yet").isFalse();
        pending.onBackendMessage(Tags.Backend.READY_FOR_QUERY);
        assertThat(pending.clientOwedNothing()).isTrue();
        pending.clientSent(Tags.Frontend.PARSE);
        pending.onBackendMessage(Tags.Backend.PARSE_COMPLETE);
        assertThat(pending.clientOwedNothing()).as("an extended batch still waits for its Sync").isFalse();
        pending.addHidden(PendingResponses.Kind.QUERY, false, null);
        pending.clear();
        assertThat(pending.clientOwedNothing()).isTrue();
    }
}
