package org.llamajava.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One rule for built-in templates in every front end: a built-in template works wherever it is
 * accepted, or is refused when it is configured. The built-in chatml goes through llama.cpp's chat
 * API (tools, JSON replies) as llama.cpp's own Jinja chatml, which renders exactly what its
 * built-in renderer does; other built-in templates render plain chats only, and a front end that
 * needs the chat API refuses them at configuration time with the reason.
 */
class BuiltinTemplateChatApiTest {
    static final List<ChatMessage> MESSAGES = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"),
            ChatMessage.assistant("Hello."), ChatMessage.user("Tell me a story."));

    @Test
    void builtinChatmlRendersTheSameThroughTheChatApi() {
        ChatTemplate chatml = ChatTemplate.builtin("chatml");
        assertTrue(chatml.supportsChatApi());
        // two renderers of llama.cpp's: llama_chat_apply_template's chatml and common/chat's Jinja chatml
        assertEquals(chatml.render(MESSAGES, true), chatml.apply(MESSAGES, ChatOptions.DEFAULT, true).prompt());
        Tool weather = Tool.of("get_weather", "The weather in a city",
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}");
        // with tools too (llama.cpp's generic tool-call format for a template that renders none: no refusal)
        ChatFormat withTools = chatml.apply(MESSAGES, ChatOptions.builder().tools(List.of(weather))
                .toolChoice(ToolChoice.REQUIRED).build(), true);
        assertTrue(withTools.prompt().startsWith("<|im_start|>system"), withTools.prompt());
    }

    @Test
    void otherBuiltinsAreRefusedWhenConfiguredForTheChatApi() {
        assertNull(ChatTemplate.checkResolvableForChatApi("chatml"));
        assertNull(ChatTemplate.checkResolvableForChatApi(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.checkResolvableForChatApi("llama2"));
        assertTrue(e.getMessage().contains("llama2") && e.getMessage().contains("plain chats only"), e.getMessage());
        ChatTemplate llama2 = ChatTemplate.builtin("llama2");
        assertFalse(llama2.supportsChatApi());
        assertFalse(llama2.render(MESSAGES, true).isEmpty(), "plain chats render");
        IllegalStateException s = assertThrows(IllegalStateException.class,
                () -> llama2.apply(MESSAGES, ChatOptions.DEFAULT, true));
        assertTrue(s.getMessage().contains("chatml"), s.getMessage());
    }
}
