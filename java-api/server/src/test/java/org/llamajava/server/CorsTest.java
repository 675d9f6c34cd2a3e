package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llamajava.Model;

/**
 * CORS as llama-server answers it (its test_security's cases): a preflight gets 200 without the API
 * key, echoes an allowed origin, and carries llama-server's credentials, methods and headers; a
 * {@code localhost} rule reflects loopback origins only; an origin not allowed gets no
 * {@code Access-Control-Allow-Origin}; the key still guards every other request.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CorsTest {
    private static final String KEY = "cors-key-0123456789";

    @TempDir
    Path tmp;
    private Model model;
    private LlamaServer any;
    private LlamaServer loopback;
    private LlamaServer listed;

    @BeforeAll
    void start() {
        model = Model.load(ServerFixture.generationModel(tmp));
        any = LlamaServer.start(model, ServerFixture.config(KEY).corsOrigins(List.of("*")).build());
        loopback = LlamaServer.start(model, ServerFixture.config(KEY).corsOrigins(List.of("localhost")).build());
        listed = LlamaServer.start(model, ServerFixture.config(null)
                .corsOrigins(List.of("https://app.example", " https://other.example ")).build());
    }

    @AfterAll
    void stop() {
        listed.close();
        loopback.close();
        any.close();
        model.close();
    }

    private static ServerFixture.Reply preflight(LlamaServer server, String origin) {
        return ServerFixture.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()), "Origin", origin,
                "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "Authorization");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "web.mydomain.fr", "https://evil.example"})
    void anyOriginIsEchoedWithLlamaServersPreflightHeaders(String origin) {
        ServerFixture.Reply r = preflight(any, origin);
        assertEquals(200, r.status(), "a preflight carries no key and must not get 401");
        assertEquals(origin, r.header("Access-Control-Allow-Origin"));
        assertEquals("true", r.header("Access-Control-Allow-Credentials"));
        assertEquals("GET, POST, DELETE, OPTIONS", r.header("Access-Control-Allow-Methods"));
        assertEquals("*", r.header("Access-Control-Allow-Headers"));
    }

    @Test
    void theKeyStillGuardsTheRequestItself() {
        ServerFixture.Reply without = ServerFixture.get(any.baseUrl() + "/v1/models", "Origin", "https://evil.example");
        assertEquals(401, without.status());
        ServerFixture.Reply with = ServerFixture.get(any.baseUrl() + "/v1/models", "Origin", "https://evil.example",
                "Authorization", "Bearer " + KEY);
        assertEquals(200, with.status());
        assertEquals("https://evil.example", with.header("Access-Control-Allow-Origin"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://localhost", "http://localhost:8080", "http://127.0.0.1:3000", "http://[::1]:3000"})
    void localhostReflectsLoopbackOrigins(String origin) {
        ServerFixture.Reply r = preflight(loopback, origin);
        assertEquals(200, r.status());
        assertEquals(origin, r.header("Access-Control-Allow-Origin"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://web.mydomain.fr", "http://evil.com", "http://notlocalhost", "http://localhost.evil.com",
            "not a url"})
    void localhostRejectsOtherOrigins(String origin) {
        ServerFixture.Reply r = preflight(loopback, origin);
        assertEquals(200, r.status());
        assertNull(r.header("Access-Control-Allow-Origin"));
    }

    @Test
    void listedOriginsOnly() {
        assertEquals("https://other.example", preflight(listed, "https://other.example").header("Access-Control-Allow-Origin"));
        assertEquals("https://app.example", ServerFixture.get(listed.baseUrl() + "/v1/models", "Origin", "https://app.example")
                .header("Access-Control-Allow-Origin"));
        ServerFixture.Reply evil = ServerFixture.get(listed.baseUrl() + "/v1/models", "Origin", "https://evil.example");
        assertEquals(200, evil.status(), "no key on this server: CORS only tells the browser, it does not refuse");
        assertNull(evil.header("Access-Control-Allow-Origin"));
    }

    @Test
    void policyUnit() {
        CorsPolicy p = new CorsPolicy(List.of("localhost", ""));
        assertTrue(p.enabled());
        assertTrue(p.allows("https://localhost:1"));
        assertFalse(p.allows(null));
        assertFalse(p.allows("http://127.0.0.2"));
        assertFalse(new CorsPolicy(List.of(" ", "")).enabled());
    }
}
