/**
 * Spring Boot auto-configuration of llama-java's Spring AI models from {@code spring.ai.llamajava.*}
 * properties (bring it in with {@code org.llamajava:llama-java-spring-ai-starter}).
 */
package org.llamajava.springai.autoconfigure;
