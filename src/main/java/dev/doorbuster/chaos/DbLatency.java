package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import eu.rekawek.toxiproxy.model.ToxicDirection;

/** Slow database: every response on the application's links to the target is delayed. */
public final class DbLatency implements Fault {
    static final String TOXIC = "doorbuster-db-latency";
    private final LinkTarget target;
    private final long latencyMs;
    private final long jitterMs;
    private final List<String> affected = new ArrayList<>();

    public DbLatency(LinkTarget target, long latencyMs, long jitterMs) {
        if (latencyMs < 0 || jitterMs < 0) {
            throw new IllegalArgumentException("DbLatency needs latency and jitter ≥ 0 ms, got " + latencyMs + " and "
                    + jitterMs);
        }
        this.target = target;
        this.latencyMs = latencyMs;
        this.jitterMs = jitterMs;
    }

    @Override
    public FaultKind kind() {
        return FaultKind.DB_LATENCY;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY);
    }

    @Override
    public String describe() {
        return "database responses to the " + target + " delayed by " + latencyMs + " ms" + (jitterMs > 0 ? " ± " + jitterMs : "");
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        affected.addAll(target.proxies(context.topology().links()));
        for (String proxy : affected) {
            context.proxy(proxy).toxics().latency(TOXIC, ToxicDirection.DOWNSTREAM, latencyMs).setJitter(jitterMs);
        }
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        Toxics.removeEverywhere(context, affected, TOXIC);
        affected.clear();
    }
}
