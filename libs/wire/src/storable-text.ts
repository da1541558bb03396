// Text that PostgreSQL cannot store: a NUL character (refused by text and jsonb) and a lone UTF-16
// surrogate (not valid Unicode, refused in jsonb escapes). A report carrying either must be
// refused by the parser naming the field, not by the database with a message about bytes.

// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s);

/** `s` with every NUL and lone surrogate replaced by U+FFFD, so it can be stored and printed. */
export const storableText = (s: string): string => s.replace(UNSTORABLE_ALL, "\uFFFD");

/**
 * The path (dot-joined, as in error locations) of the first string or key in `value` that cannot
 * be stored, or undefined when there is none. Iterative, so a deeply nested value cannot overflow
 * the stack.
 */
export function findUnstorableText(value: unknown): { field: string; isKey: boolean } | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (!isStorableText(v)) return { field: path.join("."), isKey: false };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (!isStorableText(k)) return { field: [...path, storableText(k)].join("."), isKey: true };
        stack.push({ v: x, path: [...path, k] });
      }
    }
  }
  return undefined;
}
