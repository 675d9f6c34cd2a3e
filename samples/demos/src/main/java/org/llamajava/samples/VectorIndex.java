package org.llamajava.samples;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.llamajava.embed.Similarity;

/**
 * A small in-memory top-k search over float vectors: what a retrieval sample needs, not a vector
 * database (it scans every vector; use one for more than some thousands).
 *
 * @param <T> what each vector stands for, e.g. the document's text
 */
public final class VectorIndex<T> {
    /** One search result. */
    public record Hit<T>(T item, float score) {}

    private final List<float[]> vectors = new ArrayList<>();
    private final List<T> items = new ArrayList<>();

    /** Adds an item with its vector. */
    public void add(T item, float[] vector) {
        if (!vectors.isEmpty() && vectors.get(0).length != vector.length) {
            throw new IllegalArgumentException("vectors have " + vectors.get(0).length + " dimensions, not " + vector.length);
        }
        vectors.add(vector.clone());
        items.add(item);
    }

    /** How many items it holds. */
    public int size() {
        return items.size();
    }

    /** The {@code k} items most similar (cosine) to {@code query}, best first. */
    public List<Hit<T>> search(float[] query, int k) {
        PriorityQueue<Hit<T>> best = new PriorityQueue<>((a, b) -> Float.compare(a.score(), b.score()));
        for (int i = 0; i < vectors.size(); i++) {
            best.add(new Hit<>(items.get(i), Similarity.cosine(query, vectors.get(i))));
            if (best.size() > k) {
                best.poll();
            }
        }
        List<Hit<T>> out = new ArrayList<>(best);
        out.sort((a, b) -> Float.compare(b.score(), a.score()));
        return out;
    }
}
