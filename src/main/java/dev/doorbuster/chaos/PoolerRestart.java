package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import dev.doorbuster.pooler.PgBouncerServer;
import dev.doorbuster.topology.PoolerTier;

/**
 * The pooler crashes and its supervisor starts it again on the same address: every client connection of the
 * application, and every server connection to the nodes, is cut at once. An application whose pools do not validate
 * or replace broken connections keeps failing after the pooler is back. Instant: the recovery is what is watched.
 */
public final class PoolerRestart implements Fault {
    @Override
    public FaultKind kind() {
        return FaultKind.POOLER_RESTART;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.POOLER);
    }

    @Override
    public String describe() {
        return "pooler restarted (every client and server connection cut)";
    }

    @Override
    public void inject(ChaosContext context) {
        PoolerTier pooler = context.pooler(this);
        List<PgBouncerServer.Pool> pools = pooler.pools(); // one reading of the console for both counts
        int clients = pools.stream().mapToInt(p -> p.clientsActive() + p.clientsWaiting()).sum();
        int servers = pools.stream().mapToInt(PgBouncerServer.Pool::servers).sum();
        long started = System.nanoTime();
        pooler.restart();
        context.effect(clients + " client and " + servers + " server connections cut; PgBouncer back in "
                + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    @Override
    public void heal(ChaosContext context) {
        // Nothing to undo: the application's pools reconnect by themselves, which is what is being watched.
    }
}
