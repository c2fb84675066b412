package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The replication link cut: replicas stop receiving WAL (the proxy on each replica's stream is disabled)
 * while the primary keeps taking writes, so replica reads grow staler by the second. Healing reconnects
 * them and they catch up.
 */
public final class ReplicationCut implements Fault {
    private final List<String> affected = new ArrayList<>();

    @Override
    public FaultKind kind() {
        return FaultKind.REPLICATION_CUT;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY, Need.REPLICATION_LINK);
    }

    @Override
    public String describe() {
        return "replication link cut";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        affected.addAll(context.topology().links().replication());
        if (affected.isEmpty()) {
            throw new FaultRefusedException("ReplicationCut: environment '" + context.topology().environment().name()
                    + "' names no replication link proxy (proxy.proxies.replication), so there is nothing to cut.");
        }
        for (String proxy : affected) {
            context.proxy(proxy).disable();
        }
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        for (String proxy : affected) {
            context.proxy(proxy).enable();
        }
        affected.clear();
    }
}
