package org.llamajava.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.spark.sql.Row;

/**
 * Submits a task's rows to a shared {@link RowBatcher} a chunk at a time; a row whose input
 * cannot be read (null, invalid UTF-8) gets its error cell without reaching the model.
 */
final class ChunkSubmitter<I, O> implements Function<Iterator<Row>, LlamaTransformer.Unit> {
    private final RowBatcher<I, O> batcher;
    private final TaskScope scope;
    private final int batch;
    private final Function<Row, I> read;
    private final Function<O, Object> cell;
    private long index;

    /**
     * @param read the row's input; {@link IllegalArgumentException} for a bad one
     * @param cell the output cell of a result
     */
    ChunkSubmitter(RowBatcher<I, O> batcher, TaskScope scope, int batch, Function<Row, I> read,
                   Function<O, Object> cell) {
        this.batcher = batcher;
        this.scope = scope;
        this.batch = batch;
        this.read = read;
        this.cell = cell;
    }

    @Override
    public LlamaTransformer.Unit apply(Iterator<Row> source) {
        List<Row> rows = new ArrayList<>(batch);
        List<String> errors = new ArrayList<>(batch);
        List<I> inputs = new ArrayList<>(batch);
        long first = index;
        while (rows.size() < batch && source.hasNext()) {
            Row r = source.next();
            rows.add(r);
            index++;
            try {
                inputs.add(read.apply(r));
                errors.add(null);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
        }
        CompletableFuture<List<Outcome<O>>> f = inputs.isEmpty() ? CompletableFuture.completedFuture(List.of())
                : batcher.submit(inputs);
        scope.onEnd(() -> f.cancel(false));
        return () -> {
            List<Outcome<O>> outcomes = scope.await(f);
            List<Row> out = new ArrayList<>(rows.size());
            int k = 0;
            for (int i = 0; i < rows.size(); i++) {
                String err = errors.get(i);
                Outcome<O> o = err == null ? outcomes.get(k++) : null;
                if (err != null || o.error() != null) {
                    out.add(scope.failed(rows.get(i), first + i, err != null ? err : o.error()));
                } else {
                    out.add(scope.ok(rows.get(i), cell.apply(o.value()), o.tokens(), 0));
                }
            }
            return out;
        };
    }
}
