/**
 * OpenTelemetry tracing for llama-java: {@link org.llamajava.opentelemetry.EngineTracing} makes a
 * span, with the GenAI semantic conventions' attributes, for each request of a
 * {@link org.llamajava.batch.BatchEngine}, a child of the span current where the request was
 * submitted. It uses the OpenTelemetry API only: with no SDK configured every span is a no-op.
 */
package org.llamajava.opentelemetry;
