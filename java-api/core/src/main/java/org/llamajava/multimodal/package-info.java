/**
 * Images and audio as model input, through llama.cpp's mtmd library:
 * {@link org.llamajava.multimodal.Projector} (a model's {@code mmproj} projector) turns
 * {@link org.llamajava.multimodal.Media} (encoded files and bytes decoded by mtmd, or pixels and
 * samples decoded in Java) into embeddings evaluated into a {@link org.llamajava.Sequence}, a
 * {@link org.llamajava.chat.ChatSession} or a {@link org.llamajava.batch.BatchEngine}, with the
 * KV cache reused across turns for the text and the media alike.
 */
package org.llamajava.multimodal;
