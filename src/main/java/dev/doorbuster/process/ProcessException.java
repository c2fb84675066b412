package dev.doorbuster.process;

/**
 * A server process could not be run as it must be: no user to run it as, a folder that user cannot reach, a
 * command that could not be waited for. The message says what went wrong and what to do about it.
 */
public class ProcessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProcessException(String message) {
        super(message);
    }
}
