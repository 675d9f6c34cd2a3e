package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * llama-server's test_cancel_request: a client that gives up on a blocking (not streamed)
 * request and closes its connection cancels the generation, which frees its slot, long before
 * the request would have ended (it asks for 65536 tokens with context shift, so it never ends
 * on its own here); the server serves the next request.
 */
class ServerClientGoneTest {
    @TempDir
    Path tmp;

    private static boolean processing(String url) {
        Reply slots = ServerFixture.get(url + "/slots");
        assertEquals(200, slots.status(), slots.raw().body());
        return slots.json().get(0).get("is_processing").asBoolean();
    }

    @Test
    void aClientThatLeavesABlockingRequestCancelsIt() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).slots(1).contextSize(256).threads(1)
                     .contextShift(true).build())) {
            String url = s.baseUrl();
            URI uri = URI.create(url);
            String body = "{\"prompt\": \"Once upon a time\", \"n_predict\": 65536, \"ignore_eos\": true}";
            try (Socket sock = new Socket()) {
                sock.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
                OutputStream out = sock.getOutputStream();
                out.write(("POST /completion HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                for (int i = 0; i < 600 && !processing(url); i++) {
                    Thread.sleep(20);
                }
                assertTrue(processing(url), "the request runs");
            } // the client leaves
            for (int i = 0; i < 600 && processing(url); i++) {
                Thread.sleep(50);
            }
            assertFalse(processing(url), "the slot is free");
            assertTrue(s.engineStats().tokensGenerated() < 65536, "cancelled, not ended: "
                    + s.engineStats().tokensGenerated() + " tokens");
            Reply next = ServerFixture.post(url + "/completion", "{\"prompt\": \"Once\", \"n_predict\": 4}");
            assertEquals(200, next.status(), next.raw().body());
        }
    }
}
