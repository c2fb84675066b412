package dev.doorbuster.verdict.probes;

/**
 * What the probes saw in one second of the run. Pool values are NaN when the application does not
 * expose them; lag is -1 when it could not be measured that second (no replica, node down).
 *
 * @param poolTimeouts        HikariCP connection-timeout counter, both pools (cumulative)
 * @param poolExhaustedErrors application's "pool exhausted" 503 counter (cumulative)
 * @param dbUnavailableErrors application's "database unavailable" 503 counter (cumulative)
 * @param requestTimeouts     application's "no answer within its time bound" counter (cumulative)
 * @param connectionRefusals  connection attempts of the application's pools that the database or its pooler refused
 *                            (too many clients), over every instance (cumulative; NaN: the application counts none)
 */
public record ProbeSample(int second, double writerActive, double writerIdle, double writerPending,
                          double readerActive, double readerIdle, double readerPending, double poolTimeouts,
                          double poolExhaustedErrors, double dbUnavailableErrors, double requestTimeouts,
                          long lagBytes, long lagMillis, double connectionRefusals) {

    /** A sample of an application that does not count its refused connection attempts. */
    public ProbeSample(int second, double writerActive, double writerIdle, double writerPending,
                       double readerActive, double readerIdle, double readerPending, double poolTimeouts,
                       double poolExhaustedErrors, double dbUnavailableErrors, double requestTimeouts,
                       long lagBytes, long lagMillis) {
        this(second, writerActive, writerIdle, writerPending, readerActive, readerIdle, readerPending, poolTimeouts,
                poolExhaustedErrors, dbUnavailableErrors, requestTimeouts, lagBytes, lagMillis, Double.NaN);
    }
}
