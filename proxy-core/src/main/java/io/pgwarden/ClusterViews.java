package io.pgwarden;

import io.pgwarden.cluster.Cluster;
import io.pgwarden.metrics.ClusterView;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.session.ProxyContext;
import java.util.ArrayList;
import java.util.List;

/** Turns the databases' clusters into the views the failover metrics export; a database with one host is
 * never in a failover, and reports zeros. */
final class ClusterViews {

    private ClusterViews() {
    }

    static List<ClusterView> of(ProxyContext context) {
        List<ClusterView> views = new ArrayList<>();
        for (Cluster cluster : context.pools().clusters().all()) {
            Cluster.Stats stats = cluster.stats();
            int held = 0;
            if (stats.failoverInProgress()) {
                for (BackendPool pool : context.pools().pools()) {
                    if (pool.key().database().equals(cluster.database())) {
                        held += pool.counts().waiting();
                    }
                }
            }
            views.add(new ClusterView(cluster.database(), stats.failoversCompleted(), stats.failoverInProgress(),
                    stats.secondsWithoutTarget(), held, !stats.splitBrain().isEmpty(),
                    cluster.failoverReplays()));
        }
        return views;
    }
}
