package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.server.ServerFixture.Reply;

/**
 * Schemas that used to take the server down (issue #31): a tool whose parameters have 5,000
 * optional properties crashed the process (llama.cpp's converter recursing past a worker
 * thread's stack) and 2,000 took seconds of CPU. They are answered 400 naming the bound, a large
 * schema of required properties (cheap to convert) is served, and the server keeps answering.
 */
class ServerHostileSchemaTest {
    @TempDir
    Path tmp;

    private static String properties(int n) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":{\"type\":\"string\"}");
        }
        return sb.append('}').toString();
    }

    private static String required(int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append("\"p").append(i).append('"');
        }
        return sb.append(']').toString();
    }

    private static String tool(String parameters) {
        return "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":" + parameters + "}}]";
    }

    private static String format(String schema) {
        return "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":" + schema + "}}";
    }

    @Test
    void schemaBombsAre400AndTheServerStaysUp() {
        String m = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2";
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build())) {
            String url = s.baseUrl() + "/v1/chat/completions";
            String bomb = "{\"type\":\"object\",\"properties\":" + properties(5000) + "}";
            Reply r = ServerFixture.post(url, "{" + m + "," + tool(bomb) + "}");
            assertEquals(400, r.status(), r.raw().body());
            assertEquals("tools", r.error().get("param").asText(), r.raw().body());
            assertTrue(r.error().get("message").asText().contains(Integer.toString(JsonSchema.MAX_OPTIONAL_PROPERTIES)),
                    r.raw().body());

            Reply format = ServerFixture.post(url, "{" + m + ",\"response_format\":{\"type\":\"json_schema\","
                    + "\"json_schema\":{\"name\":\"x\",\"schema\":" + bomb + "}}}");
            assertEquals(400, format.status(), format.raw().body());
            assertEquals("response_format", format.error().get("param").asText(), format.raw().body());

            // one past the bound is refused, the bound itself is converted (llama.cpp's grammar) and served
            int max = JsonSchema.MAX_OPTIONAL_PROPERTIES;
            assertEquals(400, ServerFixture.post(url, "{" + m + "," + format("{\"type\":\"object\",\"properties\":"
                    + properties(max + 1) + "}") + "}").status());
            Reply atBound = ServerFixture.post(url, "{" + m + "," + format("{\"type\":\"object\",\"properties\":"
                    + properties(max) + "}") + "}");
            assertEquals(200, atBound.status(), atBound.raw().body());

            // required properties cost little: 3,000 of them are converted and served
            Reply big = ServerFixture.post(url, "{" + m + "," + format("{\"type\":\"object\",\"properties\":"
                    + properties(3000) + ",\"required\":" + required(3000) + "}") + "}");
            assertEquals(200, big.status(), big.raw().body());

            Reply alive = ServerFixture.post(url, "{" + m + "}");
            assertEquals(200, alive.status(), alive.raw().body());
        }
    }
}
