/** Rows one cleanup statement deletes at most: short transactions, no long table locks. */
export const DELETE_BATCH_SIZE = 1000;

/**
 * Runs `deleteBatch` (a `DELETE … WHERE key IN (SELECT … LIMIT DELETE_BATCH_SIZE)`) until
 * a batch comes back short; returns how many rows went in all.
 */
export async function deleteInBatches(deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch();
    total += deleted;
    if (deleted < DELETE_BATCH_SIZE) return total;
  }
}
