// Helpers for multi-row statements.

/** Keeps the last item per key: ON CONFLICT DO UPDATE cannot touch one row twice in a statement. */
export function dedupe<T>(items: readonly T[], key: (t: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  return [...byKey.values()];
}

/** Splits rows so rows × columns stays far below Postgres' 65,535 bind parameters. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
