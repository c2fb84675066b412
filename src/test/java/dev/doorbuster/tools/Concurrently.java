package dev.doorbuster.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/** Clients of an HTTP service on several threads at once, every answer's status counted. */
public final class Concurrently {
    /** What one thread does: its requests, each answer's status given to {@code seen}. */
    @FunctionalInterface
    public interface Client {
        void run(int thread, IntConsumer seen) throws Exception;
    }

    private Concurrently() {
    }

    /**
     * Runs {@code client} on {@code threads} threads at once (numbered from 0), waits for every one, and returns how
     * many answers had each status. A thread's failure fails the call.
     */
    public static Map<Integer, Integer> countStatuses(int threads, Client client) throws Exception {
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                all.add(pool.submit(() -> {
                    client.run(thread, status -> statuses.merge(status, 1, Integer::sum));
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return statuses;
    }
}
