/**
 * Apache Spark ML transformers backed by llama-java: {@link org.llamajava.spark.LlamaEmbedder}
 * (text to vectors), {@link org.llamajava.spark.LlamaGenerator} (prompts or chat messages to text,
 * or to a struct under a JSON Schema or a record class), {@link org.llamajava.spark.LlamaReranker}
 * ((query, document) scores) and {@link org.llamajava.spark.LlamaTokenCounter}. Each executor JVM
 * loads a model once and shares it, with one batching engine, among its tasks
 * ({@link org.llamajava.spark.ExecutorModels}). Built and tested with Spark 4.2.0 (Scala 2.13) on
 * Java 17; Spark is a provided dependency.
 */
package org.llamajava.spark;
