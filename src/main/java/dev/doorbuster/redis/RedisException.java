package dev.doorbuster.redis;

/**
 * A Redis server could not be found, started or stopped. The message says what went wrong and, where the user
 * can act, what to do about it.
 */
public class RedisException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RedisException(String message) {
        super(message);
    }
}
