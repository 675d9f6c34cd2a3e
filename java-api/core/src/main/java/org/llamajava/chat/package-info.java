/**
 * Chat: {@link org.llamajava.chat.ChatMessage}s rendered by a model's own Jinja template or a
 * built-in one ({@link org.llamajava.chat.ChatTemplate}), and multi-turn
 * {@link org.llamajava.chat.ChatSession}s over a {@link org.llamajava.Sequence} that evaluate only
 * each turn's new tokens. Tool calling lands here.
 */
package org.llamajava.chat;
