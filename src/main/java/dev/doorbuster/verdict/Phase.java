package dev.doorbuster.verdict;

/** A named stretch of the load profile (baseline, spike, hold, decay): run seconds [from, to). */
public record Phase(String name, int fromSecond, int toSecond) {
}
