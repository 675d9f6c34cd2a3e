/**
 * Micrometer meters for llama-java: {@link org.llamajava.micrometer.BatchEngineMetrics} binds a
 * {@link org.llamajava.batch.BatchEngine}'s requests and statistics to a {@code MeterRegistry},
 * under the names of OpenTelemetry's GenAI semantic conventions where they have one
 * ({@code gen_ai.client.token.usage}, {@code gen_ai.server.request.duration},
 * {@code gen_ai.server.time_to_first_token}, {@code gen_ai.server.time_per_output_token}) and
 * {@code llama.engine.*} otherwise.
 */
package org.llamajava.micrometer;
