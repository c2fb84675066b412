package dev.doorbuster.postgres;

/**
 * A PostgreSQL server could not be set up, started, queried or stopped. The message always says what
 * went wrong and, where the user can act, what to do about it; it never needs a stack trace to be read.
 */
public class PgException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PgException(String message) {
        super(message);
    }

    public PgException(String message, Throwable cause) {
        super(message, cause);
    }
}
