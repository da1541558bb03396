// A route schema's refusal in the API's words: which field (of the body, the query string, the
// path) and what to send there — its type, allowed values, limits — read from the schema itself,
// instead of ajv's "must be integer". Needs ajv's `verbose` option (build-api.ts) for the schema
// and the value at fault.
import type { FastifySchemaValidationError } from "fastify";

interface Schema {
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  description?: string;
  not?: unknown;
  properties?: Record<string, Schema>;
}

const WHERE: Record<string, string> = { body: "body field", querystring: "query parameter", params: "path parameter", headers: "header" };

const between = (min: number | undefined, max: number | undefined, unit = ""): string =>
  min !== undefined && max !== undefined ? ` between ${min} and ${max}${unit}` : min !== undefined ? ` of at least ${min}${unit}` : max !== undefined ? ` of at most ${max}${unit}` : "";

/** What a value must be to pass `schema`, as a noun phrase ("an integer between 1 and 86400"). */
export function expected(schema: Schema | undefined): string {
  if (!schema) return "a valid value";
  if (schema.enum) return `one of ${schema.enum.map(String).join(", ")}`;
  if (schema.const !== undefined) return `exactly ${JSON.stringify(schema.const)}`;
  // A pattern says nothing a caller can read: its description says what the pattern means.
  if (schema.pattern !== undefined) return schema.description ?? `a string matching ${schema.pattern}`;
  const described = (phrase: string) => (schema.description ? `${phrase} (${schema.description})` : phrase);
  switch ([schema.type].flat()[0]) {
    case "integer":
      return described(`an integer${between(schema.minimum, schema.maximum)}`);
    case "number":
      return described(`a number${between(schema.minimum, schema.maximum)}`);
    case "string":
      if (schema.minLength === 1 && schema.maxLength === undefined) return described("a non-empty string");
      return described(`a string${between(schema.minLength, schema.maxLength, " characters")}`);
    case "boolean":
      return described("true or false");
    case "array":
      return described(`a list${between(schema.minItems, schema.maxItems, " items")}`);
    case "object":
      return described("a JSON object");
    default:
      return described("a valid value");
  }
}

/** ajv's JSON pointer as the API names fields: `scope.object.name`, `images.0.digest`. */
function fieldOf(instancePath: string, child?: string): string {
  const parts = instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) parts.push(child);
  return parts.join(".");
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The field at fault and the sentence saying what to send instead. */
export function validationMessage(error: FastifySchemaValidationError, context: string | undefined): { field: string; message: string } {
  const where = WHERE[context ?? ""] ?? "field";
  const { keyword, instancePath } = error;
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const parent = (error as { parentSchema?: Schema }).parentSchema;
  const data = (error as { data?: unknown }).data;
  if (keyword === "required" && params.missingProperty !== undefined) {
    const field = fieldOf(instancePath, params.missingProperty);
    return { field, message: `${where} "${field}" is required: ${expected(parent?.properties?.[params.missingProperty])}` };
  }
  if (keyword === "additionalProperties" && params.additionalProperty !== undefined) {
    // A field named "" has no name to point at: the location is the whole part.
    const field = fieldOf(instancePath, params.additionalProperty) || (context ?? "request");
    // Refused-on-purpose fields (`not`) are not offered.
    const accepted = Object.entries(parent?.properties ?? {}).filter(([, s]) => s.not === undefined).map(([name]) => name);
    return { field, message: `${where} "${field}" is not accepted: ${accepted.length ? `accepted: ${accepted.join(", ")}` : "it takes none"}` };
  }
  const field = fieldOf(instancePath);
  if (field === "") {
    const part = context ?? "request";
    return { field: part, message: `${part} must be ${expected(parent)}${context === "body" ? " (content-type application/json)" : ""}` };
  }
  if (keyword === "not") return { field, message: `${where} "${field}" is ${parent?.description ?? "not accepted"}` };
  if (context === "querystring" && Array.isArray(data)) return { field, message: `${where} "${field}" is given ${data.length} times: give it once` };
  return { field, message: `${where} "${field}" must be ${expected(parent)}${data === undefined ? "" : `, not ${shown(data)}`}` };
}
