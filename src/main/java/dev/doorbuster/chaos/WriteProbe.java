package dev.doorbuster.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

import dev.doorbuster.app.StorefrontHeaders;

/**
 * A client of the application that writes on a short period to measure the client-observed recovery
 * time (RTO) of a failover: from the fault's start to the first write the application acknowledges.
 * By default it updates user 1's name ({@code PUT /users/1}), a write every storefront-like app has.
 */
public final class WriteProbe {
    /** How often the probe writes while it waits; the RTO is exact to this. */
    public static final Duration PERIOD = Duration.ofMillis(100);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    private final URI target;
    private final String method;
    private final String body;

    public WriteProbe(URI appUrl) {
        this(appUrl.resolve("/users/1"), "PUT", "{\"name\":\"doorbuster-probe\"}");
    }

    public WriteProbe(URI target, String method, String body) {
        this.target = target;
        this.method = method;
        this.body = body;
    }

    /** One write; true if the application acknowledged it (2xx) within a second. */
    public boolean tryWrite() {
        HttpRequest request = HttpRequest.newBuilder(target).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json").header(StorefrontHeaders.CLIENT_ID, "doorbuster-write-probe")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            return status >= 200 && status < 300;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
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
            long sleep = PERIOD.toNanos() - (System.nanoTime() - attempt);
            if (sleep > 0) {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            }
        }
        return Optional.empty();
    }
}
