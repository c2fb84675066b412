package dev.doorbuster.proxy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.doorbuster.proxy.toxics.Toxic;
import dev.doorbuster.proxy.toxics.ToxicKind;
import dev.doorbuster.proxy.toxics.Toxics;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Toxiproxy's HTTP API: routes, status codes, bodies and headers as Toxiproxy 2.12.0 serves them.
 *
 * <p>Runs on the API's own single event-loop thread, so requests apply one at a time; every wait on the
 * data plane below it is bounded, so no request can hang.
 */
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);

    private static final String TEXT_PLAIN = "text/plain; charset=utf-8";
    private static final String APPLICATION_JSON = "application/json";
    private static final String REQUEST_ID_HEADER = "X-Toxiproxy-Request-Id";
    private static final char[] ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv".toCharArray();

    private static final Set<HttpMethod> GET = Set.of(HttpMethod.GET);
    private static final Set<HttpMethod> POST = Set.of(HttpMethod.POST);
    private static final Set<HttpMethod> GET_POST = Set.of(HttpMethod.GET, HttpMethod.POST);
    private static final Set<HttpMethod> ITEM = Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH,
            HttpMethod.DELETE);

    private final ProxyRegistry registry;
    private final ProxyMetrics metrics;
    private final String version;

    ApiHandler(ProxyRegistry registry, ProxyMetrics metrics, String version) {
        super(true);
        this.registry = registry;
        this.metrics = metrics;
        this.version = version;
    }

    /** A response before it is written. */
    record Reply(int status, String contentType, byte[] body, boolean nosniff) {

        static Reply json(int status, byte[] body) {
            return new Reply(status, APPLICATION_JSON, body, false);
        }

        static Reply noContent() {
            return new Reply(204, null, new byte[0], false);
        }

        /** Go's http.Error: text/plain, nosniff, the message and a newline. */
        static Reply error(int status, String text) {
            return new Reply(status, TEXT_PLAIN, (text + "\n").getBytes(StandardCharsets.UTF_8), true);
        }

        static Reply apiError(ApiException e) {
            byte[] json = GoJson.write(generator -> {
                generator.writeStartObject();
                generator.writeStringField("error", e.getMessage());
                generator.writeNumberField("status", e.status());
                generator.writeEndObject();
            });
            return error(e.status(), new String(json, StandardCharsets.UTF_8));
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            write(ctx, request, Reply.error(400, "400 Bad Request"), null, false);
            return;
        }
        String path;
        try {
            path = new QueryStringDecoder(request.uri()).path();
        } catch (IllegalArgumentException badEscape) {
            write(ctx, request, Reply.error(400, "400 Bad Request"), null, false);
            return;
        }
        HttpMethod method = request.method();
        Route route = route(path);
        if (route == null) {
            write(ctx, request, Reply.error(404, "404 page not found"), null, true);
            return;
        }
        if (route.methods != null && !route.methods.contains(method)) {
            write(ctx, request, new Reply(405, null, new byte[0], false), null, true);
            return;
        }
        String requestId = newRequestId();
        String userAgent = request.headers().get(HttpHeaderNames.USER_AGENT);
        if (userAgent != null && userAgent.startsWith("Mozilla/")) {
            write(ctx, request, Reply.error(403, "User agent not allowed"), requestId, true);
            return;
        }
        byte[] body = ByteBufUtil.getBytes(request.content());
        Reply reply;
        try {
            reply = route.handler.handle(method, route.proxy, route.toxic, body);
        } catch (ApiException e) {
            reply = Reply.apiError(e);
        } catch (RuntimeException e) {
            LOG.error("API {} {} failed", method, path, e);
            reply = Reply.apiError(ApiException.internal(String.valueOf(e.getMessage())));
        }
        write(ctx, request, reply, requestId, true);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent) {
            ctx.close(); // an idle keep-alive connection, as Go's 60 s idle timeout
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("API connection error: {}", cause.toString());
        ctx.close();
    }

    private static void write(ChannelHandlerContext ctx, FullHttpRequest request, Reply reply, String requestId,
            boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
        if (requestId != null) {
            response.headers().set(REQUEST_ID_HEADER, requestId);
        }
        // Header names in Go's canonical case (HTTP does not care; byte-level comparisons might).
        if (reply.contentType() != null) {
            response.headers().set("Content-Type", reply.contentType());
        }
        if (reply.nosniff()) {
            response.headers().set("X-Content-Type-Options", "nosniff");
        }
        response.headers().set("Date", DateFormatter.format(new Date()));
        if (reply.status() != 204) {
            response.headers().set("Content-Length", reply.body().length);
        }
        boolean keep = keepAlive && HttpUtil.isKeepAlive(request);
        if (!keep) {
            response.headers().set("Connection", "close");
        } else if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            response.headers().set("Connection", "keep-alive");
        }
        if (keep) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    static String newRequestId() {
        char[] id = new char[20];
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < id.length; i++) {
            id[i] = ID_ALPHABET[random.nextInt(ID_ALPHABET.length)];
        }
        return new String(id);
    }

    // ---- routing ----

    @FunctionalInterface
    private interface Handler {
        Reply handle(HttpMethod method, String proxy, String toxic, byte[] body) throws ApiException;
    }

    /** A matched route: the methods it takes (null for any), its handler, and its path variables. */
    private record Route(Set<HttpMethod> methods, Handler handler, String proxy, String toxic) {
    }

    private Route route(String path) {
        if (!path.startsWith("/")) {
            return null;
        }
        String[] segments = path.substring(1).split("/", -1);
        for (String segment : segments) {
            if (segment.isEmpty()) {
                return null; // no trailing-slash redirects and no empty names, as Toxiproxy's router
            }
        }
        switch (segments.length) {
            case 1:
                switch (segments[0]) {
                    case "proxies":
                        return new Route(GET_POST, (m, p, t, b) -> m.equals(HttpMethod.GET) ? listProxies()
                                : createProxy(b), null, null);
                    case "populate":
                        return new Route(POST, (m, p, t, b) -> populate(b), null, null);
                    case "reset":
                        return new Route(POST, (m, p, t, b) -> reset(), null, null);
                    case "version":
                        return new Route(GET, (m, p, t, b) -> version(), null, null);
                    case "metrics":
                        return new Route(null, (m, p, t, b) -> metrics(), null, null);
                    default:
                        return null;
                }
            case 2:
                if (!segments[0].equals("proxies")) {
                    return null;
                }
                return new Route(ITEM, this::proxyItem, segments[1], null);
            case 3:
                if (!segments[0].equals("proxies") || !segments[2].equals("toxics")) {
                    return null;
                }
                return new Route(GET_POST, (m, p, t, b) -> m.equals(HttpMethod.GET) ? listToxics(p)
                        : createToxic(p, b), segments[1], null);
            case 4:
                if (!segments[0].equals("proxies") || !segments[2].equals("toxics")) {
                    return null;
                }
                return new Route(ITEM, this::toxicItem, segments[1], segments[3]);
            default:
                return null;
        }
    }

    // ---- proxies ----

    private Reply listProxies() {
        List<Proxy.View> proxies = registry.list();
        return Reply.json(200, GoJson.write(generator -> {
            generator.writeStartObject();
            for (Proxy.View proxy : proxies) {
                generator.writeFieldName(proxy.name());
                writeProxy(generator, proxy);
            }
            generator.writeEndObject();
        }));
    }

    private Reply createProxy(byte[] body) throws ApiException {
        JsonNode input = objectBody(body, "toxiproxy.Proxy");
        String name = GoJson.string(input, "name", "", "Proxy.name");
        String listen = GoJson.string(input, "listen", "", "Proxy.listen");
        String upstream = GoJson.string(input, "upstream", "", "Proxy.upstream");
        boolean enabled = GoJson.bool(input, "enabled", true, "Proxy.enabled");
        if (name.isEmpty()) {
            throw ApiException.missingField("name");
        }
        if (upstream.isEmpty()) {
            throw ApiException.missingField("upstream");
        }
        Proxy.View created = registry.create(name, listen, upstream, enabled);
        return Reply.json(201, proxyJson(created));
    }

    private Reply proxyItem(HttpMethod method, String name, String unused, byte[] body) throws ApiException {
        if (method.equals(HttpMethod.GET)) {
            return Reply.json(200, proxyJson(registry.get(name)));
        }
        if (method.equals(HttpMethod.DELETE)) {
            registry.delete(name);
            return Reply.noContent();
        }
        if (method.equals(HttpMethod.POST)) {
            LOG.debug("Proxy update through POST (deprecated by Toxiproxy in favour of PATCH)");
        }
        registry.get(name); // 404 before any body error, as Toxiproxy
        JsonNode input = objectBody(body, "toxiproxy.Proxy");
        String listen = GoJson.string(input, "listen", null, "Proxy.listen");
        String upstream = GoJson.string(input, "upstream", null, "Proxy.upstream");
        Boolean enabled = GoJson.bool(input, "enabled", null, "Proxy.enabled");
        Proxy.View updated = registry.update(name, new ProxyRegistry.ProxyChange() {
            @Override
            public String listen(Proxy.View current) {
                return listen != null ? listen : current.listen();
            }

            @Override
            public String upstream(Proxy.View current) {
                return upstream != null ? upstream : current.upstream();
            }

            @Override
            public boolean enabled(Proxy.View current) {
                return enabled != null ? enabled : current.enabled();
            }
        });
        return Reply.json(200, proxyJson(updated));
    }

    private Reply reset() throws ApiException {
        registry.reset();
        return Reply.noContent();
    }

    private Reply version() {
        byte[] body = ("{\"version\": \"" + version + "\"}\n").getBytes(StandardCharsets.UTF_8);
        return new Reply(200, "application/json;charset=utf-8", body, false);
    }

    private Reply metrics() {
        byte[] body = metrics.render(registry.connectionCounts()).getBytes(StandardCharsets.UTF_8);
        return new Reply(200, "text/plain; version=0.0.4; charset=utf-8", body, false);
    }

    // ---- populate ----

    private Reply populate(byte[] body) {
        return populate(registry, body);
    }

    /**
     * Runs a populate request. Its replies are JSON even for errors, and list the proxies processed
     * before the failure: {@code {"error":..,"status":..,"proxies":[..]}}.
     */
    static Reply populate(ProxyRegistry registry, byte[] body) {
        List<ProxyRegistry.PopulateEntry> entries;
        try {
            entries = populateEntries(body);
        } catch (ApiException e) {
            return populateReply(e, List.of());
        }
        ProxyRegistry.PopulateResult result = registry.populate(entries);
        return populateReply(result.error(), result.proxies());
    }

    private static List<ProxyRegistry.PopulateEntry> populateEntries(byte[] body) throws ApiException {
        JsonNode input = GoJson.read(body);
        List<ProxyRegistry.PopulateEntry> entries = new ArrayList<>();
        if (input.isNull()) {
            return entries;
        }
        if (!input.isArray()) {
            throw GoJson.valueTypeError(input, "[]toxiproxy.Proxy");
        }
        for (JsonNode element : input) {
            if (element.isNull()) {
                element = GoJson.read("{}".getBytes(StandardCharsets.UTF_8));
            } else if (!element.isObject()) {
                throw GoJson.valueTypeError(element, "toxiproxy.Proxy");
            }
            entries.add(new ProxyRegistry.PopulateEntry(
                    GoJson.string(element, "name", "", "Proxy.name"),
                    GoJson.string(element, "listen", "", "Proxy.listen"),
                    GoJson.string(element, "upstream", "", "Proxy.upstream"),
                    GoJson.bool(element, "enabled", true, "Proxy.enabled")));
        }
        // Every entry is checked before anything is changed.
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).name().isEmpty()) {
                throw ApiException.missingField("name at proxy " + (i + 1));
            }
            if (entries.get(i).upstream().isEmpty()) {
                throw ApiException.missingField("upstream at proxy " + (i + 1));
            }
        }
        return entries;
    }

    private static Reply populateReply(ApiException error, List<Proxy.View> proxies) {
        byte[] json = GoJson.write(generator -> {
            generator.writeStartObject();
            if (error != null) {
                generator.writeStringField("error", error.getMessage());
                generator.writeNumberField("status", error.status());
            }
            generator.writeFieldName("proxies");
            if (proxies.isEmpty()) {
                generator.writeNull(); // Toxiproxy's nil slice
            } else {
                generator.writeStartArray();
                for (Proxy.View proxy : proxies) {
                    writeProxy(generator, proxy);
                }
                generator.writeEndArray();
            }
            generator.writeEndObject();
        });
        return Reply.json(error == null ? 201 : error.status(), json);
    }

    // ---- toxics ----

    private Reply listToxics(String proxy) throws ApiException {
        List<ToxicDefinition> toxics = registry.toxics(proxy);
        return Reply.json(200, GoJson.write(generator -> {
            generator.writeStartArray();
            for (ToxicDefinition toxic : toxics) {
                writeToxic(generator, toxic);
            }
            generator.writeEndArray();
        }));
    }

    private Reply createToxic(String proxy, byte[] body) throws ApiException {
        registry.get(proxy); // 404 first
        JsonNode input = objectBody(body, "toxics.ToxicWrapper");
        String name = GoJson.string(input, "name", "", "ToxicWrapper.name");
        String type = GoJson.string(input, "type", "", "ToxicWrapper.type");
        String stream = GoJson.string(input, "stream", "downstream", "ToxicWrapper.stream");
        float toxicity = GoJson.float32(input, "toxicity", 1.0f, "ToxicWrapper.toxicity");
        GoJson.requireObject(input, "attributes", "ToxicWrapper.attributes", "toxics.Toxic");
        Direction direction = Direction.parse(stream);
        if (direction == null) {
            throw ApiException.invalidStream();
        }
        if (name.isEmpty()) {
            name = type + "_" + stream;
        }
        ToxicKind kind = Toxics.kind(type);
        if (kind == null) {
            throw ApiException.invalidToxicType();
        }
        JsonNode attributes = input.get("attributes");
        ToxicDefinition created = registry.addToxic(proxy, name, stream, direction, toxicity,
                () -> buildToxic(kind, new LinkedHashMap<>(), attributes));
        return Reply.json(200, toxicJson(created));
    }

    private Reply toxicItem(HttpMethod method, String proxy, String toxic, byte[] body) throws ApiException {
        if (method.equals(HttpMethod.GET)) {
            return Reply.json(200, toxicJson(registry.toxic(proxy, toxic)));
        }
        if (method.equals(HttpMethod.DELETE)) {
            registry.removeToxic(proxy, toxic);
            return Reply.noContent();
        }
        registry.toxic(proxy, toxic); // 404s (proxy, then toxic) before any body error
        JsonNode input = objectBody(body, "toxics.ToxicWrapper");
        GoJson.requireObject(input, "attributes", "ToxicWrapper.attributes", "toxics.Toxic");
        ToxicDefinition updated = registry.updateToxic(proxy, toxic, new ProxyRegistry.ToxicChange() {
            @Override
            public float toxicity(ToxicDefinition current) throws ApiException {
                return GoJson.float32(input, "toxicity", current.toxicity(), "ToxicWrapper.toxicity");
            }

            @Override
            public Toxic toxic(ToxicDefinition current) throws ApiException {
                // Attributes merge: those left out keep their current values.
                return buildToxic(Toxics.kind(current.type()), new LinkedHashMap<>(current.toxic().attributes()),
                        input.get("attributes"));
            }
        });
        return Reply.json(200, toxicJson(updated));
    }

    /** Reads the integer attributes of {@code kind} over {@code base} and builds the toxic (400 on bad values). */
    private static Toxic buildToxic(ToxicKind kind, Map<String, Long> base, JsonNode attributes)
            throws ApiException {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String attribute : kind.attributeNames()) {
            Long value = base.getOrDefault(attribute, 0L);
            JsonNode given = attributes == null ? null : attributes.get(attribute);
            if (given != null && !given.isNull()) {
                value = GoJson.int64(given, "ToxicWrapper.attributes." + attribute);
            }
            values.put(attribute, value);
        }
        try {
            return kind.create(values);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequestBody(e.getMessage());
        }
    }

    // ---- JSON ----

    /** The body as a JSON object (lower-cased keys); {@code null} reads as an empty object, as in Go. */
    private static JsonNode objectBody(byte[] body, String goType) throws ApiException {
        JsonNode input = GoJson.read(body);
        if (input instanceof NullNode) {
            return GoJson.read("{}".getBytes(StandardCharsets.UTF_8));
        }
        if (!input.isObject()) {
            throw GoJson.valueTypeError(input, goType);
        }
        return input;
    }

    static byte[] proxyJson(Proxy.View proxy) {
        return GoJson.write(generator -> writeProxy(generator, proxy));
    }

    static byte[] toxicJson(ToxicDefinition toxic) {
        return GoJson.write(generator -> writeToxic(generator, toxic));
    }

    /** Toxiproxy's key order; its accidental {@code "Logger":{}} key is left out. */
    private static void writeProxy(JsonGenerator generator, Proxy.View proxy) throws IOException {
        generator.writeStartObject();
        generator.writeStringField("name", proxy.name());
        generator.writeStringField("listen", proxy.listen());
        generator.writeStringField("upstream", proxy.upstream());
        generator.writeBooleanField("enabled", proxy.enabled());
        generator.writeFieldName("toxics");
        generator.writeStartArray();
        for (ToxicDefinition toxic : proxy.toxics()) {
            writeToxic(generator, toxic);
        }
        generator.writeEndArray();
        generator.writeEndObject();
    }

    private static void writeToxic(JsonGenerator generator, ToxicDefinition toxic) throws IOException {
        generator.writeStartObject();
        generator.writeFieldName("attributes");
        generator.writeStartObject();
        for (Map.Entry<String, Long> attribute : toxic.toxic().attributes().entrySet()) {
            generator.writeNumberField(attribute.getKey(), attribute.getValue());
        }
        generator.writeEndObject();
        generator.writeStringField("name", toxic.name());
        generator.writeStringField("type", toxic.type());
        generator.writeStringField("stream", toxic.stream());
        generator.writeFieldName("toxicity");
        generator.writeNumber(GoJson.formatFloat32(toxic.toxicity()));
        generator.writeEndObject();
    }
}
