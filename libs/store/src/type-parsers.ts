// One set of result parsers for both drivers, so repository code sees the same JS values on
// Postgres (pg) and PGlite. pg parses int8 as a string and PGlite as a number: we want numbers
// (generations and stream sequences stay far below 2^53).

/** Postgres type OIDs we parse ourselves. */
export const PgOid = { int8: 20 } as const;

const parseInt8 = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} does not fit a JS number`);
  return n;
};

export const resultParsers: Record<number, (value: string) => unknown> = {
  [PgOid.int8]: parseInt8,
};
