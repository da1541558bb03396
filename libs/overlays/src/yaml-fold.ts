// go-yaml's line folding, applied to YAML the `yaml` library printed without any (lineWidth 0).
// `kustomize build` (go-yaml v3, best width 80) breaks a long flow scalar value at a space once
// the line has passed column 80: plain and single-quoted scalars at a single space followed by a
// non-space, double-quoted ones at any first space of a run (escaping the next space as `\ `).
// Continuation lines are indented two columns deeper than the key or `-` the value belongs to.
// Keys are never folded, and block scalars (`|`) are left as they are.

const BEST_WIDTH = 80;

/** Folds the long scalar values of one YAML document printed with one scalar per line. */
export function foldLongScalars(text: string): string {
  const lines = text.split("\n");
  let blockAbove = -1; // while >= 0: lines indented deeper than this are block scalar content
  let changed = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    if (blockAbove >= 0) {
      if (line.trim() === "" || indentOf(line) > blockAbove) continue;
      blockAbove = -1;
    }
    const value = valueOf(line);
    if (!value) continue;
    if (/^[|>][-+0-9]*$/.test(line.slice(value.start))) {
      blockAbove = value.owner;
      continue;
    }
    if (line.length <= BEST_WIDTH + 1) continue; // nothing passes column 80 before a space
    const folded = foldValue(line, value.start, value.owner + 2);
    if (folded !== line) {
      lines[n] = folded;
      changed = true;
    }
  }
  return changed ? lines.join("\n") : text;
}

function indentOf(line: string): number {
  let i = 0;
  while (line[i] === " ") i++;
  return i;
}

/**
 * Where the value of a `key: value`, `- value` or `- key: value` line starts, and the column of
 * the key or `-` that owns it; undefined for lines with no value on them.
 */
function valueOf(line: string): { start: number; owner: number } | undefined {
  let i = indentOf(line);
  let owner = i;
  while (line.startsWith("- ", i)) {
    owner = i;
    i += 2;
  }
  if (i >= line.length) return undefined;
  const keyStart = i;
  // A quoted scalar first: either the whole value (a sequence item) or a key.
  const c = line[i];
  if (c === '"' || c === "'") {
    const end = quotedEnd(line, i);
    if (end === undefined) return undefined;
    if (end === line.length) return i > owner ? { start: i, owner } : undefined;
    if (!line.startsWith(": ", end)) return undefined;
    return { start: end + 2, owner: keyStart };
  }
  if (c === "?" || c === "{" || c === "[" || c === "#") return undefined;
  // A plain key ends at the first ": " (a plain scalar cannot contain one).
  const sep = line.indexOf(": ", i);
  if (sep < 0) {
    // `- plain item` (a bare `key:` has no value on this line).
    if (line.endsWith(":")) return undefined;
    return i > owner || line.startsWith("- ", owner) ? { start: i, owner } : undefined;
  }
  return { start: sep + 2, owner: keyStart };
}

/** Index just past the closing quote of the quoted scalar starting at `i`. */
function quotedEnd(line: string, i: number): number | undefined {
  const q = line[i];
  for (let j = i + 1; j < line.length; j++) {
    const c = line[j];
    if (q === '"' && c === "\\") {
      j++;
      continue;
    }
    if (c === q) {
      if (q === "'" && line[j + 1] === "'") {
        j++;
        continue;
      }
      return j + 1;
    }
  }
  return undefined;
}

/** The line with its value (from `start`) folded the way go-yaml's emitter folds it. */
function foldValue(line: string, start: number, indent: number): string {
  const style = line[start] === '"' ? "double" : line[start] === "'" ? "single" : "plain";
  const body = style === "plain" ? line.slice(start) : line.slice(start + 1, -1);
  if (style !== "plain" && line.length !== start + 1 + body.length + 1) return line;
  const tokens = tokenize(body, style);
  let out = line.slice(0, start) + (style === "plain" ? "" : line[start]);
  let column = [...out].length;
  let spaces = false;
  const pad = " ".repeat(indent);
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t] as string;
    if (tok === " ") {
      const nextIsSpace = tokens[t + 1] === " ";
      const inside = t > 0 && t < tokens.length - 1;
      const canBreak =
        !spaces &&
        column > BEST_WIDTH &&
        (style === "plain" ? !nextIsSpace : style === "single" ? inside && !nextIsSpace : inside);
      if (canBreak) {
        out += `\n${pad}`;
        column = indent;
        if (style === "double" && nextIsSpace) {
          out += "\\";
          column++;
        }
      } else {
        out += " ";
        column++;
      }
      spaces = true;
    } else {
      out += tok;
      column += [...tok].length;
      spaces = false;
    }
  }
  return out + (style === "plain" ? "" : line[start]);
}

/**
 * The characters of a scalar's printed body, with each escape sequence (double quotes) or doubled
 * quote (single quotes) as one token: go-yaml writes those as a unit.
 */
function tokenize(body: string, style: "plain" | "single" | "double"): string[] {
  const out: string[] = [];
  const chars = [...body];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (style === "double" && c === "\\") {
      const kind = chars[i + 1] ?? "";
      const len = kind === "x" ? 3 : kind === "u" ? 5 : kind === "U" ? 9 : 1;
      out.push(chars.slice(i, i + 1 + len).join(""));
      i += len;
    } else if (style === "single" && c === "'" && chars[i + 1] === "'") {
      out.push("''");
      i++;
    } else out.push(c);
  }
  return out;
}
