/**
 * Typed structured output: {@link org.llamajava.structured.Structured} generates JSON that fits
 * the {@link org.llamajava.grammar.JsonSchema} of a Java type (a record, say), under the grammar
 * llama.cpp makes of that schema, and returns it parsed by Jackson, as a
 * {@link org.llamajava.structured.StructuredResult} with the generation it came from.
 */
package org.llamajava.structured;
