package dev.doorbuster.chaos;

/** The environment cannot or may not perform a fault; the message says why and what would allow it. */
public class FaultRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FaultRefusedException(String message) {
        super(message);
    }
}
