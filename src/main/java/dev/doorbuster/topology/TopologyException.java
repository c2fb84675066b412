package dev.doorbuster.topology;

/** A topology could not be started or used; the message says what and how to fix it. */
public class TopologyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TopologyException(String message) {
        super(message);
    }

    public TopologyException(String message, Throwable cause) {
        super(message, cause);
    }
}
