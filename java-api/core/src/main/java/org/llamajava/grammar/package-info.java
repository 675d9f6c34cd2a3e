/**
 * Constrained output: GBNF {@link org.llamajava.grammar.Grammar}s (checked in Java before llama.cpp
 * sees them, lazy ones with {@link org.llamajava.grammar.GrammarTrigger}s) and
 * {@link org.llamajava.grammar.JsonSchema} converted by llama.cpp's own converter. A grammar
 * constrains generation through {@link org.llamajava.Sampler.Builder#grammar}; typed results from
 * Java records are {@link org.llamajava.structured.Structured}'s. The package sits below the root
 * package {@code org.llamajava} and uses nothing of it.
 */
package org.llamajava.grammar;
