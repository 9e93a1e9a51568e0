/**
 * The `maxFragmentPayload` option shared by the shipped strategies: a fixed
 * number, or a function of the logical frame (context-aware, roadmap 3.6).
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../error.ts";
import { intInRange } from "../_internal/options.ts";

/** A fixed payload limit, or one computed from the logical frame. */
export type PayloadLimit = number | ((frame: Uint8Array) => number);

/** Schema for a {@link PayloadLimit} option whose numbers lie in `[1, max]`. */
export function payloadLimitSchema(max: number): z.ZodType<PayloadLimit> {
  return z.union([
    intInRange(1, max),
    z.custom<(frame: Uint8Array) => number>((v) => typeof v === "function"),
  ], { error: `must be an integer from 1 to ${max} or a function (frame) => number` });
}

/** Turn a validated {@link PayloadLimit} into a function that checks what it returns. */
export function payloadLimitOf(
  owner: string,
  limit: PayloadLimit,
  max: number,
): (frame: Uint8Array) => number {
  if (typeof limit === "number") return () => limit;
  return (frame) => {
    const n = limit(frame);
    if (Number.isInteger(n) && n >= 1 && n <= max) return n;
    throw new ConfigError(
      "maxFragmentPayload",
      `${owner}: option "maxFragmentPayload" must return an integer from 1 to ${max} (got ${n})`,
    );
  };
}
