package example.springshop;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/** Every error the API answers, as JSON {@code {"error": "<code>", "message": "<what to do>"}}. */
@RestControllerAdvice
class ApiErrors {
    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

    record Problem(String error, String message) {
    }

    /** A request the shop refuses, with its status. */
    static final class BadInput extends RuntimeException {
        private final HttpStatus status;
        private final String error;

        BadInput(HttpStatus status, String error, String message) {
            super(message);
            this.status = status;
            this.error = error;
        }
    }

    static BadInput badField(String field, String expected) {
        return new BadInput(HttpStatus.BAD_REQUEST, "bad_field", field + " must be " + expected);
    }

    @ExceptionHandler(BadInput.class)
    ResponseEntity<Problem> badInput(BadInput e) {
        return answer(e.status, e.error, e.getMessage());
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<Problem> unreadable(HttpMessageNotReadableException e) {
        return answer(HttpStatus.BAD_REQUEST, "malformed_json",
                "the body must be a JSON object like {\"shopperId\": 17, \"sku\": \"tv-55\", \"quantity\": 1}");
    }

    @ExceptionHandler(MissingRequestHeaderException.class)
    ResponseEntity<Problem> missingHeader(MissingRequestHeaderException e) {
        return answer(HttpStatus.BAD_REQUEST, "missing_header", "header " + e.getHeaderName() + " is required");
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<Problem> badParameter(MethodArgumentTypeMismatchException e) {
        return answer(HttpStatus.BAD_REQUEST, "bad_parameter", e.getName() + " must be a number, not '"
                + e.getValue() + "'");
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<Problem> mediaType(HttpMediaTypeNotSupportedException e) {
        return answer(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                "send the body as Content-Type: application/json");
    }

    /** The database cannot be reached (a failover, a cut link): the client may retry with the same key. */
    @ExceptionHandler({DataAccessResourceFailureException.class, TransientDataAccessException.class})
    ResponseEntity<Problem> databaseUnavailable(RuntimeException e) {
        log.warn("database unavailable: {}", e.getMessage());
        return answer(HttpStatus.SERVICE_UNAVAILABLE, "database_unavailable",
                "the database did not answer; retry with the same Idempotency-Key");
    }

    private static ResponseEntity<Problem> answer(HttpStatus status, String error, String message) {
        return ResponseEntity.status(status).body(new Problem(error, message));
    }
}
