/**
 * Serving many requests from one model: {@link org.llamajava.batch.BatchEngine} generates for
 * several requests at once, one native decode per step for all of them (continuous batching),
 * with prompt-cache reuse across requests and a bounded queue.
 */
package org.llamajava.batch;
