/**
 * Model files by reference: {@link org.llamajava.hub.ModelReference} (a URL, a Hugging Face file or
 * an {@code ORG/REPO[:QUANT]} repository) and {@link org.llamajava.hub.ModelCache}, a models folder
 * that pulls each file once, resumably and checked against its SHA-256. Only the JDK's HTTP client
 * is used.
 */
package org.llamajava.hub;
