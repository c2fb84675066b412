package dev.doorbuster.proxy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.Locale;

/**
 * JSON as Toxiproxy's Go server reads and writes it.
 *
 * <p>Reading follows Go's {@code encoding/json} into a struct: only the first JSON value of the body is
 * read (trailing bytes are ignored), object keys match case-insensitively, the last of duplicate keys
 * wins, unknown keys are ignored, {@code null} leaves a field as it was, and a value of the wrong JSON
 * type is an error naming the field. Objects are therefore read into trees whose keys are lower-cased.
 *
 * <p>Writing escapes {@code <}, {@code >}, {@code &}, U+2028 and U+2029 as Go does.
 */
final class GoJson {

    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final CharacterEscapes GO_ESCAPES = new GoEscapes();

    private GoJson() {
    }

    /**
     * Reads the first JSON value of a request body.
     *
     * @return the value, with object keys lower-cased (last duplicate wins); a NullNode for {@code null}
     * @throws ApiException 400 {@code bad request body: ...} with Go's decoder message where it is known
     */
    static JsonNode read(byte[] body) throws ApiException {
        try (JsonParser parser = FACTORY.createParser(body)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw ApiException.badRequestBody("EOF");
            }
            return readValue(parser);
        } catch (JsonEOFException e) {
            throw ApiException.badRequestBody("unexpected EOF");
        } catch (StreamConstraintsException e) {
            throw ApiException.badRequestBody("exceeded max depth");
        } catch (JsonProcessingException e) {
            throw ApiException.badRequestBody(syntaxMessage(e));
        } catch (IOException e) {
            throw ApiException.badRequestBody(e.getMessage());
        }
    }

    private static JsonNode readValue(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        switch (token) {
            case START_OBJECT: {
                ObjectNode object = NODES.objectNode();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName().toLowerCase(Locale.ROOT);
                    parser.nextToken();
                    JsonNode value = readValue(parser);
                    object.remove(key); // keep insertion order of the last occurrence
                    object.set(key, value);
                }
                return object;
            }
            case START_ARRAY: {
                ArrayNode array = NODES.arrayNode();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(readValue(parser));
                }
                return array;
            }
            case VALUE_STRING:
                return NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT:
                return parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? NODES.numberNode(parser.getBigIntegerValue())
                        : NODES.numberNode(parser.getLongValue());
            case VALUE_NUMBER_FLOAT:
                return NODES.numberNode(parser.getDecimalValue());
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new IOException("unexpected token " + token);
        }
    }

    private static String syntaxMessage(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        int character = message.indexOf("Unexpected character ('");
        if (character >= 0 && message.length() > character + 23) {
            return "invalid character '" + message.charAt(character + 23) + "' looking for beginning of value";
        }
        if (message.startsWith("Unrecognized token '")) {
            return "invalid character '" + message.charAt(20) + "' looking for beginning of value";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /** Go's name for the JSON type of a value, as its decoder errors use it. */
    static String kindOf(JsonNode node) {
        JsonNodeType type = node.getNodeType();
        return switch (type) {
            case OBJECT -> "object";
            case ARRAY -> "array";
            case STRING -> "string";
            case NUMBER -> "number " + numberText(node);
            case BOOLEAN -> "bool";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }

    private static String numberText(JsonNode node) {
        if (node.isBigDecimal()) {
            return node.decimalValue().toString();
        }
        return node.asText();
    }

    static ApiException typeError(JsonNode value, String field, String goType) {
        return ApiException.badRequestBody(
                "json: cannot unmarshal " + kindOf(value) + " into Go struct field " + field + " of type " + goType);
    }

    /** A string field: null or absent gives {@code fallback}. */
    static String string(JsonNode object, String key, String fallback, String goField) throws ApiException {
        JsonNode value = object.get(key);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual()) {
            throw typeError(value, goField, "string");
        }
        return value.textValue();
    }

    /** A boolean field: null or absent gives {@code fallback}. */
    static Boolean bool(JsonNode object, String key, Boolean fallback, String goField) throws ApiException {
        JsonNode value = object.get(key);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isBoolean()) {
            throw typeError(value, goField, "bool");
        }
        return value.booleanValue();
    }

    /** A float32 field, as Go decodes it: any JSON number within float32's range. */
    static float float32(JsonNode object, String key, float fallback, String goField) throws ApiException {
        JsonNode value = object.get(key);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isNumber()) {
            throw typeError(value, goField, "float32");
        }
        double parsed = value.isBigInteger() || value.isBigDecimal()
                ? value.decimalValue().doubleValue() : value.doubleValue();
        if (Double.isInfinite(parsed) || Math.abs(parsed) > Float.MAX_VALUE) {
            throw typeError(value, goField, "float32");
        }
        return (float) parsed;
    }

    /** An int64 field: only integer literals in range, as Go (so {@code 100.5} and {@code 1e3} are errors). */
    static long int64(JsonNode value, String goField) throws ApiException {
        if (!value.isIntegralNumber() || value.isBigInteger()) {
            throw typeError(value, goField, "int64");
        }
        return value.longValue();
    }

    /** Checks that a field holds an object (or null/absent), as for a struct-typed Go field. */
    static void requireObject(JsonNode object, String key, String goField, String goType) throws ApiException {
        JsonNode value = object.get(key);
        if (value != null && !value.isNull() && !value.isObject()) {
            throw typeError(value, goField, goType);
        }
    }

    /** Go's error for a body whose top-level JSON type does not fit the target. */
    static ApiException valueTypeError(JsonNode value, String goType) {
        return ApiException.badRequestBody("json: cannot unmarshal " + kindOf(value) + " into Go value of type " + goType);
    }

    // ---- writing ----

    /** Writes one JSON document with Go's escaping. */
    static byte[] write(JsonWriter body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            generator.setCharacterEscapes(GO_ESCAPES);
            body.write(generator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @FunctionalInterface
    interface JsonWriter {
        void write(JsonGenerator generator) throws IOException;
    }

    /**
     * A float32 the way Go's JSON encoder prints it: shortest form, no trailing {@code .0}
     * ({@code 1}, {@code 0.5}, {@code 0.1}), exponent form below 1e-6 or from 1e21.
     */
    static String formatFloat32(float value) {
        if (value == 0) {
            return "0";
        }
        BigDecimal decimal = new BigDecimal(Float.toString(value)).stripTrailingZeros();
        double magnitude = Math.abs(value);
        if (magnitude < 1e-6 || magnitude >= 1e21) {
            String mantissa = decimal.unscaledValue().abs().toString();
            int exponent = mantissa.length() - 1 - decimal.scale();
            String digits = mantissa.length() > 1 ? mantissa.charAt(0) + "." + mantissa.substring(1) : mantissa;
            String sign = value < 0 ? "-" : "";
            return sign + digits + "e" + (exponent < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
        }
        if (decimal.scale() <= 0) {
            return decimal.toBigInteger().toString();
        }
        return decimal.toPlainString();
    }

    /** Go's HTML-safe escaping of {@code <}, {@code >}, {@code &} and the two JavaScript line separators. */
    private static final class GoEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        // Go writes these escapes with lower-case hex digits.
        private static final SerializableString LESS_THAN = new SerializedString("\\u003c");
        private static final SerializableString GREATER_THAN = new SerializedString("\\u003e");
        private static final SerializableString AMPERSAND = new SerializedString("\\u0026");
        private static final SerializableString LINE_SEPARATOR = new SerializedString("\\u2028");
        private static final SerializableString PARAGRAPH_SEPARATOR = new SerializedString("\\u2029");
        private final int[] asciiEscapes;

        GoEscapes() {
            asciiEscapes = standardAsciiEscapesForJSON();
            asciiEscapes['<'] = ESCAPE_CUSTOM;
            asciiEscapes['>'] = ESCAPE_CUSTOM;
            asciiEscapes['&'] = ESCAPE_CUSTOM;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return asciiEscapes;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            switch (ch) {
                case '<':
                    return LESS_THAN;
                case '>':
                    return GREATER_THAN;
                case '&':
                    return AMPERSAND;
                default:
                    break;
            }
            if (ch == 0x2028) {
                return LINE_SEPARATOR;
            }
            return ch == 0x2029 ? PARAGRAPH_SEPARATOR : null;
        }
    }
}
