package dev.doorbuster.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import dev.doorbuster.app.StorefrontHeaders;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.WriteProbeRequest;

/**
 * A client of the application that writes on a short period to measure the client-observed recovery
 * time (RTO) of a failover: from the fault's start to the first write the application acknowledges.
 * What it writes is the environment's ({@link Environment#writeProbe()}): the reference storefront's
 * {@code PUT /users/1}, or {@code app.writeProbe} for a service of your own.
 *
 * <p>A probe that cannot tell a recovery says so instead of waiting out the give-up time and reporting a failure the
 * failover did not cause ({@link #unmeasurable()}): a service of your own without {@code app.writeProbe}, or a write
 * the service did not acknowledge in the {@linkplain #preflight() pre-flight} before the load, with no fault on.
 */
public final class WriteProbe {
    /** How often the probe writes while it waits; the RTO is exact to this. */
    public static final Duration PERIOD = Duration.ofMillis(100);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);
    /** The pre-flight's write may take longer than a probe's: a service just started may answer its first slowly. */
    static final Duration PREFLIGHT_TIMEOUT = Duration.ofSeconds(2);
    /**
     * Writes the pre-flight makes when none gets an answer at all: a service's first write after it started may wait
     * for a cold JIT or its pool's first connection, and a false "not measured" would fail the run. An HTTP answer
     * other than 2xx is final at once.
     */
    static final int PREFLIGHT_TRIES = 2;

    /**
     * Why the probe cannot measure a failover's RTO, and what to set so that the next run can.
     *
     * @param reason what was missing or what the write got
     * @param fix    what to supply, naming the environment field
     */
    public record Unmeasurable(String reason, String fix) {
    }

    /**
     * What one write got.
     *
     * @param write  the write, as messages name it ({@code PUT /users/1})
     * @param status the HTTP status, or -1 without an answer
     * @param error  why there was no answer (null with one)
     */
    public record Answer(String write, int status, String error) {
        public boolean acknowledged() {
            return status >= 200 && status < 300;
        }

        @Override
        public String toString() {
            return status >= 0 ? write + " answered " + status : write + " got no answer (" + error + ")";
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    private final URI target;
    private final WriteProbeRequest write;
    /** The environment file that sets the write of a service of your own; null for the reference storefront's. */
    private final Path ownServiceFile;
    private volatile Unmeasurable unmeasurable;
    private volatile Answer last;

    /** The reference storefront's probe ({@link WriteProbeRequest#STOREFRONT}) of the application at {@code appUrl}. */
    public WriteProbe(URI appUrl) {
        this(WriteProbeRequest.STOREFRONT.target(appUrl), WriteProbeRequest.STOREFRONT, null, null);
    }

    private WriteProbe(URI target, WriteProbeRequest write, Path ownServiceFile, Unmeasurable unmeasurable) {
        this.target = target;
        this.write = write;
        this.ownServiceFile = ownServiceFile;
        this.unmeasurable = unmeasurable;
    }

    /**
     * The probe of {@code environment}'s application at {@code appUrl}, sending {@link Environment#writeProbe()}; for a
     * service of your own without {@code app.writeProbe}, one that writes nothing and says what to set.
     */
    public static WriteProbe of(Environment environment, URI appUrl) {
        Optional<WriteProbeRequest> write = environment.writeProbe();
        Path file = environment.runsStorefront() ? null : environment.source();
        if (write.isPresent()) {
            return new WriteProbe(write.get().target(appUrl), write.get(), file, null);
        }
        return new WriteProbe(null, null, file, new Unmeasurable("the environment sets no " + WriteProbeRequest.FIELD
                + ", so no write of the service could be probed (" + WriteProbeRequest.STOREFRONT.describe() + " is the "
                + "reference storefront's)", "set " + WriteProbeRequest.FIELD + " in " + file + " to a cheap write the "
                + "service acknowledges with 2xx every time (method, path, body; e.g. {\"method\": \"PUT\", \"path\": "
                + "\"/accounts/probe\", \"body\": {\"note\": \"probe\"}}), or for one run -D" + WriteProbeRequest.FIELD
                + ".path=<its path>"));
    }

    /** Why this probe cannot measure an RTO; empty when it can (as far as it knows). */
    public Optional<Unmeasurable> unmeasurable() {
        return Optional.ofNullable(unmeasurable);
    }

    /**
     * Before the load, with no fault on: writes once and, if the application does not acknowledge it (another status;
     * no answer within {@link #PREFLIGHT_TIMEOUT} in {@link #PREFLIGHT_TRIES} writes), marks this probe unmeasurable,
     * naming what the write got. Bounded by those (4 s when the service does not answer at all, milliseconds when it
     * does); a probe already unmeasurable writes nothing.
     *
     * @return why the RTO cannot be measured; empty when the write was acknowledged
     */
    public Optional<Unmeasurable> preflight() {
        if (unmeasurable != null) {
            return Optional.of(unmeasurable);
        }
        Answer answer = write(PREFLIGHT_TIMEOUT);
        for (int tries = 1; answer.status() < 0 && tries < PREFLIGHT_TRIES && !Thread.currentThread().isInterrupted();
             tries++) {
            answer = write(PREFLIGHT_TIMEOUT);
        }
        if (!answer.acknowledged()) {
            // The fix names what the write got: a 404 or a 400 is the probe's setting, not the failover.
            String fix = ownServiceFile == null
                    ? answer + ": the reference storefront acknowledges this write when it runs as it should; see its log "
                            + "(app.log in the run's folder)"
                    : answer + ": set " + WriteProbeRequest.FIELD + " in " + ownServiceFile + " to a cheap write "
                            + "the service acknowledges with 2xx every time (method, path, headers, body)";
            unmeasurable = new Unmeasurable("the write probe's pre-flight before the load, with no fault on, was not "
                    + "acknowledged" + (answer.status() < 0 ? " in " + PREFLIGHT_TRIES + " tries" : "") + ": " + answer, fix);
        }
        return unmeasurable();
    }

    /** One write; true if the application acknowledged it (2xx) within a second. */
    public boolean tryWrite() {
        return write(REQUEST_TIMEOUT).acknowledged();
    }

    /** The answer the last write got (null before the first). */
    public Answer lastAnswer() {
        return last;
    }

    /** One write, bounded by {@code timeout}: its status, or why it got none. */
    Answer write(Duration timeout) {
        if (write == null) {
            throw new IllegalStateException("this probe has no write to send: " + unmeasurable.reason());
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(target).timeout(timeout)
                .header(StorefrontHeaders.CLIENT_ID, "doorbuster-write-probe")
                .method(write.method(), write.body() == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(write.body()));
        if (write.body() != null) {
            request.header("Content-Type", "application/json");
        }
        write.headers().forEach(request::setHeader); // the environment's own headers win over these defaults
        Answer answer;
        try {
            answer = new Answer(write.describe(), client.send(request.build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode(), null);
        } catch (HttpTimeoutException e) {
            answer = new Answer(write.describe(), -1, "no answer within " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            answer = new Answer(write.describe(), -1, e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = new Answer(write.describe(), -1, "interrupted");
        }
        last = answer;
        return answer;
    }

    /**
     * Writes every {@link #PERIOD} until one succeeds; returns the time from {@code sinceNanos} (the
     * fault's start, from {@link System#nanoTime()}) to that success, or empty after {@code giveUpAfter}.
     */
    public Optional<Duration> awaitFirstSuccess(long sinceNanos, Duration giveUpAfter) throws InterruptedException {
        long deadline = sinceNanos + giveUpAfter.toNanos();
        while (System.nanoTime() < deadline) {
            long attempt = System.nanoTime();
            if (tryWrite()) {
                return Optional.of(Duration.ofNanos(System.nanoTime() - sinceNanos));
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("the write probe was interrupted");
            }
            long sleep = PERIOD.toNanos() - (System.nanoTime() - attempt);
            if (sleep > 0) {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            }
        }
        return Optional.empty();
    }
}
