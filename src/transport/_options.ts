/**
 * Validation of listen/connect options shared by every transport.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";

const hostname = z.string({ error: "must be a non-empty string" }).min(1, {
  error: "must be a non-empty string",
});

/** Schema of `ListenOptions`; port 0 asks for any free port. */
export const listenSchema = z.strictObject({
  hostname: hostname.optional(),
  port: intInRange(0, 65535),
});

/** Schema of `ConnectOptions`. */
const connectSchema = z.strictObject({
  hostname: hostname.optional(),
  port: intInRange(1, 65535),
});

/** Default interface: loopback, so nothing is exposed unless asked for. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/** Validated listen options with the default hostname filled in. */
export function parseListen(owner: string, input: unknown): { hostname: string; port: number } {
  const { hostname, port } = parseOptions(owner, listenSchema, input);
  return { hostname: hostname ?? DEFAULT_HOSTNAME, port };
}

/** Validated connect options with the default hostname filled in. */
export function parseConnect(owner: string, input: unknown): { hostname: string; port: number } {
  const { hostname, port } = parseOptions(owner, connectSchema, input);
  return { hostname: hostname ?? DEFAULT_HOSTNAME, port };
}
