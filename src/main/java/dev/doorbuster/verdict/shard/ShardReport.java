package dev.doorbuster.verdict.shard;

import java.util.List;

/**
 * How a scaled-out run's injector shards did, in its verdict: what each delivered, which never did, and the
 * merged latency percentiles (of the union of every shard's requests: histograms added, not percentiles averaged).
 *
 * @param count      shards the run was split into
 * @param shards     every shard that delivered its recording
 * @param missing    shards that did not, each with the reason (never ready, no results by the deadline)
 * @param p50Micros  median latency over every shard's requests (µs; -1 without requests)
 * @param p99Micros  99th percentile over every shard's requests (µs; -1 without requests)
 * @param problems   files that could not be read or merged (named; the rest was merged)
 */
public record ShardReport(int count, List<Shard> shards, List<Missing> missing, long requests, long p50Micros,
                          long p99Micros, List<String> problems) {
    /**
     * One shard's delivery.
     *
     * @param users      virtual users it started
     * @param endedEarly why its load stopped early (the abort rule, SIGTERM), or null
     */
    public record Shard(int index, long requests, long failedRequests, long users, long writes, String endedEarly) {
    }

    /** A shard the verdict has no recording of, and why (with when it was last heard from). */
    public record Missing(int index, String reason) {
    }

    public ShardReport {
        shards = List.copyOf(shards);
        missing = List.copyOf(missing);
        problems = List.copyOf(problems);
    }
}
