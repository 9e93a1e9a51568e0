/**
 * Validation of listen/connect options shared by every transport.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import type { TlsConnectOptions, TlsListenOptions } from "./types.ts";

const hostname = z.string({ error: "must be a non-empty string" }).min(1, {
  error: "must be a non-empty string",
});

const pem = (what: string) =>
  z.string({ error: `must be a PEM string (${what})` }).includes("-----BEGIN ", {
    error: `must be a PEM string (${what}), "-----BEGIN ..." included`,
  });

/** Schema of `TlsListenOptions`: the server's certificate chain and private key, PEM. */
const tlsListenSchema = z.strictObject({
  cert: pem("certificate chain"),
  key: pem("private key"),
});

/** Schema of `TlsConnectOptions`. */
const tlsConnectSchema = z.strictObject({
  ca: z.union([pem("CA certificates"), z.array(pem("CA certificate")).min(1)], {
    error: "must be a PEM string or a non-empty array of them",
  }).optional(),
  serverName: hostname.optional(),
});

/** Schema of `ListenOptions` without TLS (the in-memory transport's). */
export const listenSchema = z.strictObject({
  hostname: hostname.optional(),
  port: intInRange(0, 65535),
});

/** Schema of `ConnectOptions` without TLS. */
const plainConnectSchema = z.strictObject({
  hostname: hostname.optional(),
  port: intInRange(1, 65535),
});

const tcpListenSchema = listenSchema.extend({
  tls: tlsListenSchema.optional(),
  reusePort: z.boolean({ error: "must be a boolean" }).optional(),
});
const tcpConnectSchema = plainConnectSchema.extend({ tls: tlsConnectSchema.optional() });

/** Default interface: loopback, so nothing is exposed unless asked for. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/** Validated listen options with the default hostname filled in. */
export interface ParsedListen {
  hostname: string;
  port: number;
  /** Serve TLS with this certificate and key. */
  tls?: TlsListenOptions;
  /** Set SO_REUSEPORT (several processes on one port). */
  reusePort: boolean;
}

/** Validated connect options with the default hostname filled in. */
export interface ParsedConnect {
  hostname: string;
  port: number;
  /** Speak TLS; `ca` as a list, and the name to verify (`serverName`, else `hostname`). */
  tls?: { ca?: string[]; serverName: string };
}

/** Validated TCP listen options (TLS allowed) with the default hostname filled in. */
export function parseListen(owner: string, input: unknown): ParsedListen {
  const { hostname, port, tls, reusePort } = parseOptions(owner, tcpListenSchema, input);
  const parsed: ParsedListen = {
    hostname: hostname ?? DEFAULT_HOSTNAME,
    port,
    reusePort: reusePort ?? false,
  };
  if (tls) parsed.tls = tls;
  return parsed;
}

/** Validated TCP connect options (TLS allowed) with the default hostname filled in. */
export function parseConnect(owner: string, input: unknown): ParsedConnect {
  const { hostname, port, tls } = parseOptions(owner, tcpConnectSchema, input);
  const parsed: ParsedConnect = { hostname: hostname ?? DEFAULT_HOSTNAME, port };
  if (tls) parsed.tls = tlsConnect(tls, parsed.hostname);
  return parsed;
}

/** Validated connect options of a transport without TLS. */
export function parsePlainConnect(
  owner: string,
  input: unknown,
): { hostname: string; port: number } {
  const { hostname, port } = parseOptions(owner, plainConnectSchema, input);
  return { hostname: hostname ?? DEFAULT_HOSTNAME, port };
}

function tlsConnect(tls: TlsConnectOptions, hostname: string): NonNullable<ParsedConnect["tls"]> {
  const serverName = tls.serverName ?? hostname;
  if (tls.ca === undefined) return { serverName };
  return { ca: typeof tls.ca === "string" ? [tls.ca] : [...tls.ca], serverName };
}
