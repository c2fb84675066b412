package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.Set;

import dev.doorbuster.topology.PoolerTier;

/**
 * The pooler holds the writers: {@code PAUSE} of their alias, as the first step of a runbook's switchover, for as long as
 * the schedule gives it, then {@code RESUME}. No connection breaks and no query fails at the pooler; each waits. Held
 * longer than the application's request bound, the pause turns into timeouts: the "paused too long" failure.
 */
public final class PoolerPause implements Fault {
    @Override
    public FaultKind kind() {
        return FaultKind.POOLER_PAUSE;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.POOLER);
    }

    @Override
    public String describe() {
        return "pooler pauses the writers (queries wait, connected)";
    }

    @Override
    public void inject(ChaosContext context) {
        PoolerTier pooler = context.pooler(this);
        long started = System.nanoTime();
        pooler.pauseWriters(); // returns once the transactions in flight are done: that wait is part of the pause
        context.effect("writers' alias '" + pooler.writerAlias() + "' paused; its transactions in flight finished in "
                + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    @Override
    public void heal(ChaosContext context) {
        context.pooler(this).resumeWriters();
    }
}
