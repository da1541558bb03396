// YAML parsed the way Kubernetes parses it (YAML 1.1: `0644` is octal, `yes` is a boolean), with
// a line for every node so errors can say `file:line`.
import { LineCounter, parseAllDocuments, isMap, isNode, isPair, isScalar, type Document, type YAMLError } from "yaml";

export const YAML_OPTIONS = { version: "1.1" as const, uniqueKeys: true };

export interface YamlDoc {
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface YamlSyntaxError {
  line: number;
  column: number;
  message: string;
}

/** Parses every document in a stream; the first syntax error of any document is returned instead. */
export function parseYamlStream(text: string): { docs: YamlDoc[] } | { error: YamlSyntaxError } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return { docs: [] }; // an empty stream
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) return { error: syntaxError(err, lines, text) };
  }
  return { docs: docs.map((doc) => ({ doc, lines })) };
}

function syntaxError(err: YAMLError, lines: LineCounter, text: string): YamlSyntaxError {
  const pos = lines.linePos(err.pos[0]);
  // An unterminated construct is reported at the end of input; name the last line that has text.
  const lastLine = text.trimEnd().split("\n").length;
  if (pos.line > lastLine) return { line: lastLine, column: 1, message: cleanMessage(err) };
  return { line: pos.line, column: pos.col, message: cleanMessage(err) };
}

function cleanMessage(err: YAMLError): string {
  return (err.message.split("\n")[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, "");
}

/** 1-based line of a node's start. */
export function lineOfNode(y: YamlDoc, node: unknown): number | undefined {
  if (isNode(node) && node.range) return y.lines.linePos(node.range[0]).line;
  return undefined;
}

/**
 * Line of the value at `path` (keys and indexes); when it is absent, the line of the nearest
 * ancestor that exists. With `key: true`, the line of the last key itself (for "unknown field").
 */
export function lineAt(y: YamlDoc, path: (string | number)[], opts: { key?: boolean } = {}): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (opts.key && n === path.length && n > 0) {
      const parent = sub.length > 1 ? y.doc.getIn(sub.slice(0, -1), true) : y.doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub[sub.length - 1]);
        const line = pair ? lineOfNode(y, pair.key) : undefined;
        if (line) return line;
      }
      continue;
    }
    const node = n === 0 ? y.doc.contents : y.doc.getIn(sub, true);
    const line = lineOfNode(y, node);
    if (line) return line;
  }
  return undefined;
}

/** `clusters[1].environment` from `["clusters", 1, "environment"]`. */
export function fieldName(path: (string | number)[]): string {
  let out = "";
  for (const p of path) {
    // An empty key or one with blanks / control characters would vanish or garble in `a.b`.
    if (typeof p === "number") out += `[${p}]`;
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must be quoted
    else if (p === "" || /[\s\u0000-\u001f"]/.test(p)) out += `[${JSON.stringify(p)}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}
