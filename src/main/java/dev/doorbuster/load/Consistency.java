package dev.doorbuster.load;

import static dev.doorbuster.app.StorefrontHeaders.SERVED_BY;
import static dev.doorbuster.app.StorefrontHeaders.SERVED_BY_POOL;
import static io.gatling.javaapi.core.CoreDsl.bodyLength;
import static io.gatling.javaapi.core.CoreDsl.exec;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import dev.doorbuster.verdict.consistency.ConsistencyLog;
import dev.doorbuster.verdict.consistency.History;
import dev.doorbuster.verdict.consistency.Observation;
import dev.doorbuster.verdict.consistency.ServedBy;
import dev.doorbuster.verdict.consistency.SessionGuarantees;
import dev.doorbuster.verdict.consistency.Violation;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.consistency.WriteLookup;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpRequestActionBuilder;

/**
 * The verdict's view of any HTTP service, as Gatling chain steps: every request timed into the run's
 * per-second histograms; every write ledgered by an identity the client chose (audited after the run:
 * lost, in doubt, ghost); every read of a key checked against the virtual user's session guarantees
 * (read-your-writes, immediate and later; monotonic reads), whenever it happens, with a KO in Gatling's
 * report when it breaks one. Storefront-free: a simulation for one's own API declares its kinds of
 * write, how to find them afterwards, and how to read a key's version from an answer.
 *
 * <pre>{@code
 * Consistency.WriteKind profile = consistency.kind("profile update",
 *         WriteLookup.sql("SELECT key FROM idempotency_keys WHERE key = ANY(?)"));
 * consistency.write(profile, "profile: update", s -> "user:" + s.getLong("userId"), s -> null,
 *         http("profile: update").put("/users/#{userId}").header("Idempotency-Key", Consistency.WRITE_ID_EL)
 *                 .body(StringBody("{\"name\": \"#{doorbusterWriteId}\"}")),
 *         (answer, s) -> Observation.of(versionIn(answer.body()), nameIn(answer.body())));
 * consistency.read(profile, "profile: read", s -> "user:" + s.getLong("userId"),
 *         http("profile: read").get("/users/#{userId}"), (answer, s) -> ...);
 * }</pre>
 */
public final class Consistency {
    /** Session attribute holding the current write's identity (its idempotency key). */
    public static final String WRITE_ID = "doorbusterWriteId";
    /** {@link #WRITE_ID} in Gatling's expression language, for headers and bodies. */
    public static final String WRITE_ID_EL = "#{" + WRITE_ID + "}";
    private static final String STATE = "doorbusterConsistency";
    private static final String T0 = "doorbusterT0";

    /**
     * An answer as readers see it. {@code servedBy} is its {@code X-Served-By} header, if any, with the
     * {@code X-Served-By-Pool} header in brackets when given ({@code replica (reader-2)}): {@link ServedBy}.
     */
    public record Answer(int status, String body, String servedBy) {
    }

    /**
     * What an answer shows of the key: its version and state, {@link Observation#absent()} if the answer
     * says the key does not exist, or null if the answer is not a read of the key at all (an error: an error
     * is never a stale read).
     */
    @FunctionalInterface
    public interface Reader {
        Observation read(Answer answer, Session session);
    }

    /** A kind of write and how to find writes of it after the run. */
    public record WriteKind(String name, WriteLookup lookup) {
    }

    private final ConsistencyLog log;
    private final Recorder recorder;
    private final Map<String, WriteLookup> lookups = new ConcurrentHashMap<>();

    /** Where request latencies and client-seen 503s go. */
    interface Recorder {
        void record(String request, long micros, boolean ok);

        void client503();
    }

    Consistency(ConsistencyLog log, Recorder recorder) {
        this.log = log;
        this.recorder = recorder;
    }

    /** Declares a kind of write; the audit finds its writes with {@code lookup}. */
    public WriteKind kind(String name, WriteLookup lookup) {
        WriteLookup previous = lookups.putIfAbsent(name, lookup);
        if (previous != null && previous != lookup) {
            throw new IllegalArgumentException("write kind '" + name + "' is declared twice with different lookups");
        }
        return new WriteKind(name, lookup);
    }

    /** Every declared kind's lookup, for the audit. */
    public Map<String, WriteLookup> lookups() {
        return Map.copyOf(lookups);
    }

    public ConsistencyLog log() {
        return log;
    }

    /**
     * A write of {@code key}: a fresh identity is put in {@link #WRITE_ID} before {@code request} is sent
     * (send it as the request's idempotency key, or inside the value written). After the answer: 2xx =
     * acknowledged (and {@code result} says what it wrote), 4xx = failed, 5xx or no answer = in doubt.
     * {@link #WRITE_ID} keeps this write's identity until the next write.
     *
     * @param intended the value about to be written, if the client knows it (else null), for the history
     */
    public ChainBuilder write(WriteKind kind, String requestName, Function<Session, String> key,
                              Function<Session, String> intended, HttpRequestActionBuilder request, Reader result) {
        return exec(unchecked -> {
            Session session = withState(unchecked);
            State state = state(session);
            String writeId = log.newWriteId();
            Session withId = session.set(WRITE_ID, writeId);
            state.begin(key.apply(withId), writeId, intended.apply(withId), log.now());
            log.history().add(state.process, History.Type.INVOKE, true, state.key, state.intended);
            return withId;
        }).exec(timed(requestName, request, (response, session) -> state(session).answer = answerOf(response)))
                .exec(session -> {
            State state = state(session);
            Answer answer = state.answer;
            WriteLedger.Outcome outcome = answer == null || answer.status() >= 500 ? WriteLedger.Outcome.IN_DOUBT
                    : answer.status() >= 400 ? WriteLedger.Outcome.FAILED
                    : answer.status() >= 200 && answer.status() < 300 ? WriteLedger.Outcome.ACKNOWLEDGED
                    : WriteLedger.Outcome.IN_DOUBT;
            Observation written = outcome == WriteLedger.Outcome.ACKNOWLEDGED ? result.read(answer, session) : null;
            double at = log.now();
            log.ledger().record(new WriteLedger.Write(kind.name(), state.key, state.writeId, state.guarantees.session(),
                    state.startedAt, at, outcome, written, state.intended));
            if (written != null) {
                state.guarantees.acknowledged(state.key, state.writeId, written, at);
            }
            String value = written != null ? written.value() : state.intended;
            log.history().add(state.process, switch (outcome) {
                case ACKNOWLEDGED -> History.Type.OK;
                case FAILED -> History.Type.FAIL;
                case IN_DOUBT -> History.Type.INFO;
            }, true, state.key, value, written != null ? written.version() : null, null);
            state.end(outcome == WriteLedger.Outcome.IN_DOUBT ? log.newProcess() : state.process);
            return session;
        });
    }

    /**
     * A read of {@code key}, checked against what this virtual user wrote and read of it before: a read
     * that breaks a guarantee is a KO named after it (one fixed message per guarantee), an answer that is
     * not a read of the key a KO "not a read". Let the request's own status check accept the answers that
     * are reads (e.g. {@code status().in(200, 404)} when 404 means "does not exist"), so a stale "not found"
     * is reported as the guarantee it breaks.
     */
    public ChainBuilder read(WriteKind kind, String requestName, Function<Session, String> key,
                             HttpRequestActionBuilder request, Reader reader) {
        return exec(unchecked -> {
            Session session = withState(unchecked);
            State state = state(session);
            state.begin(key.apply(session), null, null, log.now());
            log.history().add(state.process, History.Type.INVOKE, false, state.key, null);
            return session;
        }).exec(timed(requestName, request.check(bodyLength().validate("session guarantees", (length, session) -> {
            // Runs after the answer was judged (below): a read that broke a guarantee is a KO named after it;
            // an answer that is not a read of the key (an error) is a KO too, but never a violation.
            State state = state(session);
            if (!state.broken.isEmpty()) {
                throw new IllegalStateException(state.broken.get(0).guarantee().koMessage());
            }
            if (state.observed == null && state.answer != null) {
                throw new IllegalStateException("not a read of " + kind.name() + ": HTTP " + state.answer.status());
            }
            return length;
        })), (response, session) -> {
            State state = state(session);
            Answer answer = answerOf(response);
            state.answer = answer;
            state.observed = reader.read(answer, session);
            if (state.observed != null) {
                state.broken = state.guarantees.read(kind.name(), state.key, requestName, state.observed,
                        answer.servedBy(), log.now());
            }
        })).exec(session -> {
            State state = state(session);
            History.Type type = state.answer == null ? History.Type.INFO
                    : state.observed == null ? History.Type.FAIL : History.Type.OK;
            Observation shown = state.observed;
            log.history().add(state.process, type, false, state.key, shown == null ? null : shown.value(),
                    shown == null ? null : shown.version(), shown == null ? null : state.answer.servedBy());
            state.end(type == History.Type.INFO ? log.newProcess() : state.process);
            return session;
        });
    }

    /**
     * {@code request}, with its client-observed latency and OK/KO recorded into the run's per-second
     * histograms under {@code name}, and its 503s counted. (Gatling's own statistics are internal; the
     * verdict records what it needs itself.)
     */
    public ChainBuilder timed(String name, HttpRequestActionBuilder request) {
        return timed(name, request, (response, session) -> { });
    }

    /**
     * As {@link #timed(String, HttpRequestActionBuilder)}, with {@code onAnswer} seeing each answer before
     * the request's checks run. (A request has one response transformer: this is it, doing both jobs.)
     */
    private ChainBuilder timed(String name, HttpRequestActionBuilder request,
                               java.util.function.BiConsumer<io.gatling.http.response.Response, Session> onAnswer) {
        return exec(session -> session.markAsSucceeded().set(T0, System.nanoTime()))
                .exec(request.transformResponse((response, session) -> {
                    if (response.status().code() == 503) {
                        recorder.client503(); // overload as clients see it, for apps that expose no pool metrics
                    }
                    onAnswer.accept(response, session);
                    return response;
                }))
                .exec(session -> {
                    long micros = (System.nanoTime() - session.getLong(T0)) / 1_000;
                    recorder.record(name, micros, !session.isFailed());
                    return session.remove(T0);
                });
    }

    private static Answer answerOf(io.gatling.http.response.Response response) {
        String body = new String(response.body().bytes(), StandardCharsets.UTF_8);
        return new Answer(response.status().code(), body,
                ServedBy.of(response.headers().get(SERVED_BY), response.headers().get(SERVED_BY_POOL)));
    }

    /**
     * The virtual user's consistency state, created on its first checked request. Gatling sessions are
     * immutable maps; this mutable object inside one is touched by one virtual user at a time only.
     */
    private State state(Session session) {
        State state = session.contains(STATE) ? session.get(STATE) : null;
        if (state == null) {
            throw new IllegalStateException("no consistency state in the session (checked requests start with "
                    + "withState)");
        }
        return state;
    }

    /** The session with this virtual user's consistency state, created on its first checked request. */
    private Session withState(Session session) {
        return session.contains(STATE) ? session
                : session.set(STATE, new State(log.session(session.userId()), log.sessionOf(session.userId())));
    }

    /** One virtual user's session guarantees and its request in flight. */
    private static final class State {
        final SessionGuarantees guarantees;
        long process;
        String key;
        String writeId;
        String intended;
        double startedAt;
        Answer answer;
        Observation observed;
        List<Violation> broken = List.of();

        State(SessionGuarantees guarantees, long process) {
            this.guarantees = guarantees;
            this.process = process;
        }

        void begin(String key, String writeId, String intended, double at) {
            this.key = key;
            this.writeId = writeId;
            this.intended = intended;
            this.startedAt = at;
            this.answer = null;
            this.observed = null;
            this.broken = List.of();
        }

        /** After an operation whose outcome is unknown, the user goes on as a new process (the history's rule). */
        void end(long nextProcess) {
            this.process = nextProcess;
            this.answer = null;
        }
    }
}
