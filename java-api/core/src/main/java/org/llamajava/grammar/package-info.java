/**
 * Structured output: GBNF {@link org.llamajava.grammar.Grammar}s (checked in Java before llama.cpp
 * sees them, lazy ones with {@link org.llamajava.grammar.GrammarTrigger}s),
 * {@link org.llamajava.grammar.JsonSchema} converted by llama.cpp's own converter, and typed
 * results from Java records with {@link org.llamajava.grammar.Structured}. A grammar constrains
 * generation through {@link org.llamajava.Sampler.Builder#grammar}.
 */
package org.llamajava.grammar;
