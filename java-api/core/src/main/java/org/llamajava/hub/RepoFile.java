package org.llamajava.hub;

/**
 * One file of a Hugging Face repository's listing.
 *
 * @param path   its path in the repository
 * @param size   its size in bytes, or -1 when the listing gives none
 * @param sha256 its SHA-256 (hex) for an LFS file, else null
 */
public record RepoFile(String path, long size, String sha256) {}
