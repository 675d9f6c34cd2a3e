package org.llamajava.batch;

/**
 * What {@link BatchEngine#saveSlot} wrote or {@link BatchEngine#restoreSlot} read.
 *
 * @param slot   the slot
 * @param tokens the tokens of its cache saved or restored
 * @param bytes  the size of the file
 */
public record SlotSave(int slot, int tokens, long bytes) {}
