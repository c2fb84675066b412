package dev.doorbuster.app;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

/**
 * JSON in and out. Input is strict on purpose: a wrong type, a float where an integer belongs, a string
 * holding a number, an unknown field or trailing garbage is a client bug worth a 400, not something to
 * guess around. Error messages name the field but never echo Java class names or parser internals.
 */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfig(LogicalType.Textual, text -> text // {"name": 5} is not a name
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();

    private Json() {
    }

    /** Parses a request body into {@code type}, or throws a 400 saying what is wrong with it. */
    static <T> T read(byte[] body, Class<T> type) {
        if (body.length == 0) {
            throw ApiError.badRequest("A JSON body is required.");
        }
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) {
                throw ApiError.badRequest("The body must be a JSON object, not null.");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            throw ApiError.badRequest("Unknown field '" + e.getPropertyName() + "'; accepted: "
                    + e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", ")) + ".");
        } catch (InputCoercionException e) {
            throw ApiError.badRequest("A number in the body is out of range.");
        } catch (MismatchedInputException e) {
            String field = path(e);
            throw ApiError.badRequest(field.isEmpty() ? "The body must be a JSON object with the documented fields."
                    : "Field '" + field + "' has the wrong type or format.");
        } catch (JsonParseException e) {
            throw ApiError.badRequest("Malformed JSON (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ").");
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("Invalid JSON body.");
        } catch (IOException e) {
            throw ApiError.badRequest("Unreadable request body.");
        }
    }

    static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /** A timestamptz column as an ISO-8601 instant ({@code 2026-11-27T08:00:00Z}), or null. */
    static String instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant().toString();
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }
}
