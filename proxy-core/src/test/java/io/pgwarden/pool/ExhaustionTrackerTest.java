package io.pgwarden.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.metrics.EventLog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExhaustionTrackerTest {

    private static final long MS = 1_000_000L;

    private final EventLog events = new EventLog(100);
    private final ExhaustionTracker tracker = new ExhaustionTracker(new PoolKey("appdb", "app"), events);

    private List<String> details() {
        List<String> oldestFirst = new ArrayList<>();
        events.recent().forEach(e -> oldestFirst.add(0, e.pool() + " " + e.kind() + ": " + e.detail()));
        return oldestFirst;
    }

    @Test
    void aQueueBehindAFullPoolForASecondIsReportedOnceWithItsEndAndPeak() {
        tracker.note(5_000 * MS, 10, 10, 3);
        tracker.note(5_400 * MS, 10, 10, 7);
        tracker.note(5_999 * MS, 10, 10, 4);
        assertThat(details()).as("not yet a second").isEmpty();

        tracker.note(6_000 * MS, 10, 10, 5);
        tracker.note(6_200 * MS, 10, 10, 6);
        assertThat(details()).containsExactly("appdb/app pool_exhausted: start: 10/10 in use, 5 waiting");

        tracker.note(6_500 * MS, 10, 10, 0);
        assertThat(details()).containsExactly("appdb/app pool_exhausted: start: 10/10 in use, 5 waiting",
                "appdb/app pool_exhausted: end after 1500 ms, peak 7 waiting");
        assertThat(tracker.mayChange(10, 10, 0)).isFalse();
    }

    @Test
    void aShortQueueIsNotNews() {
        tracker.note(0, 4, 4, 2);
        tracker.note(900 * MS, 4, 4, 0);
        tracker.note(5_000 * MS, 4, 4, 0);
        assertThat(details()).isEmpty();
        assertThat(tracker.mayChange(4, 4, 0)).isFalse();
    }

    @Test
    void nobodyWaitingOrRoomLeftIsNoEpisode() {
        assertThat(tracker.mayChange(10, 10, 0)).isFalse();
        assertThat(tracker.mayChange(9, 10, 3)).as("backends can still be opened").isFalse();
        tracker.note(0, 9, 10, 3);
        tracker.note(2_000 * MS, 9, 10, 3);
        assertThat(details()).isEmpty();
    }

    @Test
    void theEpisodeLastsWhileClientsStillQueueEvenOnceThePoolHasRoom() {
        tracker.note(0, 2, 2, 1);
        assertThat(tracker.mayChange(1, 2, 1)).isTrue();
        tracker.note(1_200 * MS, 1, 2, 1);
        tracker.note(1_300 * MS, 1, 2, 0);
        assertThat(details()).containsExactly("appdb/app pool_exhausted: start: 1/2 in use, 1 waiting",
                "appdb/app pool_exhausted: end after 1300 ms, peak 1 waiting");
    }

    @Test
    void aLaterEpisodeIsTimedFromItsOwnStart() {
        tracker.note(0, 2, 2, 1);
        tracker.note(500 * MS, 2, 2, 0);
        tracker.note(10_000 * MS, 2, 2, 2);
        tracker.note(10_999 * MS, 2, 2, 2);
        assertThat(details()).isEmpty();
        tracker.note(11_000 * MS, 2, 2, 2);
        tracker.note(11_000 * MS, 2, 2, 0);
        assertThat(details()).containsExactly("appdb/app pool_exhausted: start: 2/2 in use, 2 waiting",
                "appdb/app pool_exhausted: end after 1000 ms, peak 2 waiting");
    }
}
