package dev.doorbuster.pooler;

/**
 * A connection pooler could not be found, started, steered or stopped. The message says what went wrong and, where
 * the user can act, what to do about it.
 */
public class PoolerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PoolerException(String message) {
        super(message);
    }

    public PoolerException(String message, Throwable cause) {
        super(message, cause);
    }
}
