package dev.doorbuster.verdict;

/** What a simulation counts as success, beyond the common checks. */
public enum JudgingMode {
    /** Users must not suffer: pool exhaustion, errors, slow requests, stale reads, lost writes all fail. */
    STANDARD,
    /** As STANDARD, plus drift between the first and last windows (latency creep, leaking connections). */
    SOAK,
    /**
     * The load is meant to exceed capacity: pool exhaustion is expected. The run fails if overload was not
     * graceful: a request hung beyond the application's time bound, the pools were never saturated (the
     * test proved nothing), or errors continued after the load dropped (phase "recovery").
     */
    OVERLOAD
}
