package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.protocol.Tags;
import org.junit.jupiter.api.Test;

/** The release point of transaction mode: a backend may go back only when it owes nothing. */
class RequestTrackerTest {

    private final RequestTracker tracker = new RequestTracker();

    @Test
    void aSimpleQueryIsInFlightUntilItsReadyForQuery() {
        tracker.onClientMessage(Tags.Frontend.QUERY);
        assertThat(tracker.isQuiet()).isFalse();
        tracker.onReadyForQuery();
        assertThat(tracker.isQuiet()).isTrue();
    }

    @Test
    void pipelinedQueriesKeepTheBackendUntilTheLastReadyForQuery() {
        tracker.onClientMessage(Tags.Frontend.QUERY);
        tracker.onClientMessage(Tags.Frontend.QUERY);
        tracker.onReadyForQuery();
        assertThat(tracker.isQuiet()).isFalse();
        tracker.onReadyForQuery();
        assertThat(tracker.isQuiet()).isTrue();
    }

    @Test
    void anExtendedBatchWithoutSyncIsNeverReleasable() {
        for (byte tag : new byte[] {Tags.Frontend.PARSE, Tags.Frontend.BIND, Tags.Frontend.DESCRIBE,
                Tags.Frontend.EXECUTE, Tags.Frontend.FLUSH}) {
            tracker.onClientMessage(tag);
        }
        assertThat(tracker.isQuiet()).isFalse();
        tracker.onClientMessage(Tags.Frontend.SYNC);
        assertThat(tracker.isQuiet()).isFalse();
        tracker.onReadyForQuery();
        assertThat(tracker.isQuiet()).isTrue();
    }

    @Test
    void aBatchOpenedAfterAnAnsweredQueryStillPinsTheBackend() {
        tracker.onClientMessage(Tags.Frontend.QUERY);
        tracker.onClientMessage(Tags.Frontend.PARSE);
        tracker.onReadyForQuery();
        assertThat(tracker.isQuiet()).isFalse();
    }

    @Test
    void copyDataBelongsToTheQueryThatStartedTheCopy() {
        tracker.onClientMessage(Tags.Frontend.QUERY);
        tracker.onClientMessage(Tags.Frontend.COPY_DATA);
        tracker.onClientMessage(Tags.Frontend.COPY_DONE);
        tracker.onReadyForQuery();
        assertThat(tracker.isQuiet()).isTrue();
    }

    @Test
    void anUnsolicitedReadyForQueryNeverDrivesTheCountNegative() {
        tracker.onReadyForQuery();
        tracker.onClientMessage(Tags.Frontend.QUERY);
        assertThat(tracker.isQuiet()).isFalse();
    }
}
