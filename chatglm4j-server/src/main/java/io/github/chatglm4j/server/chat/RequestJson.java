package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;

/**
 * Reads request JSON within bounds that keep the work of one request small: nesting depth (a tools schema nested
 * hundreds of levels deep renders, indented, to tens of millions of characters), number length, and the count of
 * tokens (a body of tiny values would otherwise become a tree many times its size). Used for the body and for the
 * JSON strings inside it (tool call arguments).
 */
public final class RequestJson {
    /** Deeper than any real request (messages 4 levels, tool schemas rarely 10), shallow enough to stay cheap. */
    public static final int MAX_DEPTH = 64;
    /** Digits in one number: enough for any double or long written out in full. */
    static final int MAX_NUMBER_LENGTH = 400;
    /** JSON tokens in one body: a context of token ids is 128 Ki at most. */
    static final long MAX_TOKENS = 2_000_000;

    private static final ObjectMapper MAPPER = JsonMapper.builder(new JsonFactoryBuilder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxNumberLength(MAX_NUMBER_LENGTH)
                            .maxTokenCount(MAX_TOKENS)
                            .build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private RequestJson() {
    }

    /**
     * Parses JSON text.
     *
     * @param what names the text in error messages ("The request body", "messages[1]...arguments")
     * @param param the parameter reported in the error, or null for the body
     * @throws InvalidRequestException if it is not valid JSON or exceeds a bound
     */
    public static JsonNode parse(byte[] json, String what, String param) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw invalid(e, what, param);
        }
    }

    /** As {@link #parse(byte[], String, String)}, for a JSON string inside the request. */
    public static JsonNode parse(String json, String what, String param) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw invalid(e, what, param);
        }
    }

    private static InvalidRequestException invalid(IOException e, String what, String param) {
        if (e instanceof StreamConstraintsException) {
            String m = e.getMessage() == null ? "" : e.getMessage();
            String limit = m.contains("nesting depth") ? "is nested deeper than " + MAX_DEPTH + " levels"
                    : m.contains("Number value length") ? "holds a number longer than " + MAX_NUMBER_LENGTH + " characters"
                    : m.contains("Token count") ? "holds more than " + MAX_TOKENS + " JSON values"
                    : "exceeds a size limit";
            return new InvalidRequestException(param, what + " " + limit + ".");
        }
        if (e instanceof JsonProcessingException p) {
            JsonLocation at = p.getLocation();
            return new InvalidRequestException(param, what + " is not valid JSON: " + firstLine(p.getOriginalMessage())
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        }
        return new InvalidRequestException(param, what + " could not be read.");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
