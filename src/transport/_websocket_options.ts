/**
 * Options of the WebSocket transport, validated once when it is made.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";

/** Options of `websocketTransport()`; every field has a default. */
export interface WebSocketTransportOptions {
  /**
   * The path a client must ask for (`ws://host:port/path`); other paths get
   * 404, requests that are not WebSocket upgrades 426. Default `"/"`.
   */
  path?: string;
  /**
   * Subprotocols (`Sec-WebSocket-Protocol`). A server picks the first of
   * these, in this order, that the client offered, and refuses a client that
   * offered only others (400); a client that offers none is accepted without
   * one. A client offers these. Default: none.
   */
  protocols?: readonly string[];
  /**
   * A server pings every connection this often and closes one that has not
   * answered the previous ping with a pong (close code 1001 on Bun and Node).
   * On Deno, whose WebSocket cannot send a ping by hand, this is
   * `Deno.upgradeWebSocket`'s `idleTimeout` in whole seconds (rounded up).
   * 0 = off. Default 30,000 ms.
   */
  heartbeatIntervalMs?: number;
  /**
   * The largest message accepted, in bytes; a bigger one closes the
   * connection with 1009 (Message Too Big). Default 1 MiB.
   */
  maxPayload?: number;
  /**
   * Where the runtime cannot stop reading a WebSocket (Deno's, and the
   * client's `WebSocket` global but Bun's), received bytes the app has not
   * read yet are queued up to this many; past it the connection is closed
   * with 1008 rather than queue without bound. Default 4 MiB.
   */
  maxBufferedBytes?: number;
}

const MiB = 1024 * 1024;

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const schema: z.ZodType<WebSocketSettings, WebSocketTransportOptions | undefined> = z.strictObject({
  path: z.string({ error: 'must be a path starting with "/"' }).startsWith("/", {
    error: 'must be a path starting with "/"',
  }).default("/"),
  protocols: z.array(
    z.string().regex(token, { error: 'must be HTTP tokens (RFC 7230), e.g. "mqtt"' }),
    { error: "must be an array of subprotocol names" },
  ).default([]),
  heartbeatIntervalMs: intInRange(0, 3_600_000).default(30_000),
  maxPayload: intInRange(1, 1024 * MiB).default(MiB),
  maxBufferedBytes: intInRange(1, 1024 * MiB).default(4 * MiB),
});

/** Validated WebSocket options, defaults filled in. */
export interface WebSocketSettings {
  readonly path: string;
  readonly protocols: readonly string[];
  readonly heartbeatIntervalMs: number;
  readonly maxPayload: number;
  readonly maxBufferedBytes: number;
}

/** Validate `options` (a `ConfigError` names the bad one). */
export function parseWebSocketOptions(options: unknown): WebSocketSettings {
  return Object.freeze(parseOptions("websocketTransport", schema, options));
}
