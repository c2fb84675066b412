package dev.doorbuster.chaos;

/**
 * One kind of trouble for the system under test, driven only through the Toxiproxy API and cluster
 * operations. {@link #inject} starts it; {@link #heal} ends it and must be safe to call even if inject
 * failed half-way (the run always heals everything at the end, also when it fails).
 */
public interface Fault {
    /** The fault's kind, as listed in environments' {@code allowFaults} ({@code ReplicationLag}, ...). */
    String name();

    /** What it does, with its parameters, for the timeline and reports. */
    String describe();

    void inject(ChaosContext context) throws Exception;

    void heal(ChaosContext context) throws Exception;
}
