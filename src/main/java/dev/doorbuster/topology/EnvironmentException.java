package dev.doorbuster.topology;

/** An environment file (or a -D override of it) is wrong; the message names the file, the field and the fix. */
public class EnvironmentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EnvironmentException(String message) {
        super(message);
    }
}
