package dev.doorbuster.verdict.consistency;

/**
 * One read that broke a session guarantee, with what the user had written or seen before.
 *
 * @param session         the virtual user
 * @param kind            the kind of the key's writes ({@code profile update}), or the read's name
 * @param request         the request that read it
 * @param expected        the state the read had to show at least (own write, or newest state seen)
 * @param expectedWriteId the write that produced {@code expected}, when known (always for own writes)
 * @param expectedAt      run second the user learnt {@code expected}
 * @param observed        what the read showed
 * @param at              run second of the read's answer
 * @param servedBy        the answer's {@code X-Served-By} (which server answered), or null
 */
public record Violation(Guarantee guarantee, long session, String kind, String key, String request,
                        Observation expected, String expectedWriteId, double expectedAt, Observation observed, double at,
                        String servedBy) {
    public int second() {
        return (int) Math.floor(at);
    }
}
