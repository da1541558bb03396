// Field names of kustomization files as kustomize reads them. kustomize converts the YAML to JSON
// (sigs.k8s.io/yaml: a duplicate key keeps its last value, and the JSON object's keys come out
// sorted) and decodes that with Go's encoding/json, which matches a key to a struct field
// exactly or else case-insensitively, a later key overwriting an earlier one. So `nameprefix:`
// and `NamePrefix:` both set namePrefix, and with both present the one sorting last wins.
// This applies to struct fields only; the keys of label and annotation maps stay as written.

/** Go's case folding for field names: ASCII case, plus the two non-ASCII runes that fold to ASCII letters. */
function fold(s: string): string {
  return s.replace(/\u017F/g, "s").replace(/\u212A/g, "k").toLowerCase();
}

const foldedCache = new Map<readonly string[], Map<string, string>>();

function foldedNames(known: readonly string[]): Map<string, string> {
  let m = foldedCache.get(known);
  if (!m) {
    m = new Map();
    // The first of several names folding alike wins, as encoding/json takes the first field.
    for (const name of known) if (!m.has(fold(name))) m.set(fold(name), name);
    foldedCache.set(known, m);
  }
  return m;
}

/**
 * Renames the keys of `raw` (in place) to the `known` field names they match, in Go's order:
 * keys sorted byte-wise, exact match first, then case-insensitive; a later key overwrites an
 * earlier one for the same field. Unknown keys are kept as written, for the caller to refuse.
 * Returns `raw`.
 */
export function canonicalizeFieldNames(raw: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const keys = Object.keys(raw);
  // The common case — every key already spelled exactly — costs one pass and no rewrite.
  if (keys.every((k) => known.includes(k))) return raw;
  const folded = foldedNames(known);
  const entries = keys.sort(compareBytes).map((k) => [known.includes(k) ? k : (folded.get(fold(k)) ?? k), raw[k]] as const);
  for (const k of keys) delete raw[k];
  for (const [k, v] of entries) raw[k] = v;
  return raw;
}

/** Byte-wise order of the UTF-8 encodings, as Go sorts map keys when it writes JSON. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const ea = Buffer.from(a, "utf8");
  const eb = Buffer.from(b, "utf8");
  return Buffer.compare(ea, eb);
}
