// Merge rules read from an OpenAPI (Swagger 2) document, as kustomize's kyaml reads the file an
// `openapi: {path: …}` kustomization field names: definitions indexed by their
// `x-kubernetes-group-version-kind`, `$ref: "#/definitions/<name>"` followed, a field's schema
// from `properties` or else `additionalProperties`, and a list merged by key only when its
// `x-kubernetes-patch-strategy` includes `merge` (keys from `x-kubernetes-list-map-keys`, else
// `x-kubernetes-patch-merge-key`, else none: a set of scalars). Elements get a schema only when
// the list's `type` is exactly `array` with an `items` schema. Pure: the caller parses the file.
import { ANY_FIELD, type FieldSchema, type MergeSchemas, type TypeSchema } from "./merge-schema.js";

type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The merge rules of one OpenAPI document; roots are converted on first use and memoized. */
export class OpenApiSchemas implements MergeSchemas {
  private readonly definitions: Json;
  private readonly roots = new Map<string, Json>();
  private readonly types = new Map<Json, TypeSchema>();

  constructor(document: unknown) {
    const defs = isMap(document) && isMap(document.definitions) ? document.definitions : {};
    this.definitions = defs;
    for (const def of Object.values(defs)) {
      if (!isMap(def)) continue;
      const gvks = def["x-kubernetes-group-version-kind"];
      if (!Array.isArray(gvks)) continue;
      for (const gvk of gvks) {
        if (!isMap(gvk) || typeof gvk.version !== "string" || typeof gvk.kind !== "string") continue;
        const group = typeof gvk.group === "string" ? gvk.group : "";
        this.roots.set(rootKey(group ? `${group}/${gvk.version}` : gvk.version, gvk.kind), def);
      }
    }
  }

  /** True when the document describes this apiVersion and kind. */
  has(apiVersion: unknown, kind: unknown): boolean {
    return this.roots.has(rootKey(apiVersion, kind));
  }

  rootFor(apiVersion: unknown, kind: unknown): TypeSchema | undefined {
    const def = this.roots.get(rootKey(apiVersion, kind));
    return def === undefined ? undefined : this.typeOf(def);
  }

  /** A schema with its `$ref`s followed; undefined when a reference leads nowhere (kyaml then has no schema). */
  private resolve(schema: unknown): Json | undefined {
    let s = schema;
    for (let hops = 0; isMap(s) && typeof s.$ref === "string" && s.$ref !== ""; hops++) {
      const m = /^#\/definitions\/(.+)$/.exec(s.$ref);
      if (!m || hops > 64) return undefined;
      s = this.definitions[m[1]!.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    return isMap(s) ? s : undefined;
  }

  private typeOf(schema: Json): TypeSchema {
    const known = this.types.get(schema);
    if (known) return known;
    // Registered before its fields are filled in: definitions may refer to themselves.
    const out: { [field: string]: FieldSchema; [ANY_FIELD]?: FieldSchema } = {};
    this.types.set(schema, out);
    if (isMap(schema.properties)) {
      for (const [name, p] of Object.entries(schema.properties)) {
        const field = this.fieldOf(p);
        if (field) out[name] = field;
      }
    }
    const extra = this.fieldOf(schema.additionalProperties);
    if (extra) out[ANY_FIELD] = extra;
    return out;
  }

  private fieldOf(raw: unknown): FieldSchema | undefined {
    const s = this.resolve(raw);
    if (!s) return undefined;
    const field: { mergeKeys?: readonly string[]; type?: TypeSchema } = {};
    const strategy = s["x-kubernetes-patch-strategy"];
    if (typeof strategy === "string" && strategy.split(",").includes("merge")) {
      const mapKeys = s["x-kubernetes-list-map-keys"];
      const mergeKey = s["x-kubernetes-patch-merge-key"];
      if (Array.isArray(mapKeys)) field.mergeKeys = mapKeys.map(String);
      else field.mergeKeys = typeof mergeKey === "string" && mergeKey !== "" ? [mergeKey] : [];
    }
    const type = s.type;
    const isArray = type === "array" || (Array.isArray(type) && type.length === 1 && type[0] === "array");
    if (isArray) {
      const items = this.resolve(s.items);
      if (items) field.type = this.typeOf(items);
    } else {
      field.type = this.typeOf(s);
    }
    return field;
  }
}

function rootKey(apiVersion: unknown, kind: unknown): string {
  return `${String(apiVersion)} ${String(kind)}`;
}
