/**
 * Option validation: zod schemas in, {@link ConfigError} out.
 *
 * Schemas built with the helpers here carry messages that state the allowed
 * range, so the error a user sees names both the option and what it accepts.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../error.ts";

/** An integer option in `[min, max]` whose message states the range. */
export function intInRange(min: number, max: number): z.ZodNumber {
  const range = `must be an integer from ${min} to ${max}`;
  return z.number({ error: range }).int({ error: range }).min(min, { error: range })
    .max(max, { error: range });
}

/** A finite number option in `[min, max]` whose message states the range. */
export function numberInRange(min: number, max: number): z.ZodNumber {
  const range = `must be a number from ${min} to ${max}`;
  return z.number({ error: range }).min(min, { error: range }).max(max, { error: range });
}

/** One of a fixed set of literal values, with a message listing them. */
export function oneOf<const T extends readonly [z.core.util.Literal, ...z.core.util.Literal[]]>(
  values: T,
): z.ZodLiteral<T[number]> {
  return z.literal(values, { error: `must be one of ${values.map(show).join(", ")}` });
}

/**
 * Parse `input` against `schema`; on failure throw a {@link ConfigError} whose
 * message is `"<owner>: option "<path>" <rule> (got <value>)"`.
 */
export function parseOptions<S extends z.ZodType>(
  owner: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") || "(options)";
  const got = issue ? valueAt(input, issue.path) : input;
  const secret = issue?.path.some((key) => SECRET_OPTIONS.has(String(key))) ?? false;
  const rule = issue?.code === "unrecognized_keys"
    ? `is not a known option (known: ${knownKeys(schema)})`
    : issue?.message ?? "is invalid";
  const option = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : path;
  const shown = secret ? REDACTED : show(got);
  throw new ConfigError(option, `${owner}: option "${option}" ${rule} (got ${shown})`);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function knownKeys(schema: z.ZodType): string {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape).join(", ") : "none";
}

/**
 * Options whose values an error message must not repeat (they end up in logs):
 * a TLS private key and its passphrase, a password. Nested too: a bad `tls`
 * object is shown with its `key` redacted.
 */
const SECRET_OPTIONS: ReadonlySet<string> = new Set(["key", "passphrase", "password"]);
const REDACTED = "[redacted]";
/** Longer strings are cut in a message: a PEM certificate is no use there. */
const SHOWN_STRING_LENGTH = 80;

function shortened(text: string): string {
  return text.length > SHOWN_STRING_LENGTH
    ? `${text.slice(0, SHOWN_STRING_LENGTH)}… (${text.length} characters)`
    : text;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(shortened(value));
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(
        value,
        (key, nested) =>
          SECRET_OPTIONS.has(key)
            ? REDACTED
            : typeof nested === "string"
            ? shortened(nested)
            : typeof nested === "bigint"
            ? `${nested}n`
            : nested,
      );
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}
