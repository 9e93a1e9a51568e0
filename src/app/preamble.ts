/**
 * The connection preamble: bytes a client sends once, before any frame
 * (a magic number, a protocol version, a handshake).
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";
import type { NetAddr } from "../transport/types.ts";

/** A decoded preamble and how many bytes it took; the rest are frames. */
export interface PreambleDecoded<P> {
  /** The decoded preamble, available to hooks as `ctx.preamble`. */
  readonly value: P;
  /** Bytes consumed by the preamble (1 ≤ length ≤ bytes given). */
  readonly length: number;
}

/** What preamble callbacks can do with the connection: write a reply. */
export interface PreambleConnection {
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Write raw bytes (not framed) to the peer. */
  write(bytes: Uint8Array): Promise<void>;
}

/**
 * Preamble handling for `WireframeApp.withPreamble()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeServer } from "@wireframe/wireframe";
 * import { connect, memoryTransport } from "@wireframe/wireframe/memory";
 *
 * const MAGIC = new TextEncoder().encode("WIRE1");
 * const app = new WireframeApp().withPreamble({
 *   decode(bytes) {
 *     if (bytes.length < MAGIC.length) return undefined; // need more bytes
 *     if (!MAGIC.every((b, i) => bytes[i] === b)) throw new Error("bad magic");
 *     return { value: "v1", length: MAGIC.length };
 *   },
 *   onSuccess: (_version, conn) => conn.write(new TextEncoder().encode("OK")),
 *   onFailure: (_err, conn) => conn.write(new TextEncoder().encode("NO")),
 *   timeoutMs: 2_000,
 * });
 *
 * // In memory, to see the raw bytes: the preamble, then the server's "OK".
 * await using server = new WireframeServer(app, { transport: memoryTransport });
 * const conn = await connect({ port: (await server.listen({ port: 0 })).port });
 * const [writer, reader] = [conn.writable.getWriter(), conn.readable.getReader()];
 * await writer.write(new TextEncoder().encode("WIRE1"));
 * assert.equal(new TextDecoder().decode((await reader.read()).value), "OK");
 * await writer.close(); // FIN: the server ends the connection in turn
 * assert.equal((await reader.read()).done, true);
 * ```
 */
export interface PreambleOptions<P> {
  /**
   * Called with every byte received so far: return `undefined` while more are
   * needed, the decoded preamble once complete, or throw if it is invalid.
   */
  decode(bytes: Uint8Array): PreambleDecoded<P> | undefined;
  /** Runs after a successful decode, before setup; may reply; throw to reject. */
  onSuccess?(preamble: P, conn: PreambleConnection): void | Promise<void>;
  /** Runs on any preamble failure; may write a reply before the connection closes. */
  onFailure?(error: PreambleError, conn: PreambleConnection): void | Promise<void>;
  /** Time allowed for the whole preamble; default 5000 ms. */
  timeoutMs?: number;
  /** Most bytes buffered while waiting for a complete preamble; default 4096. */
  maxBytes?: number;
}

/** Why a preamble was not accepted. */
export type PreambleFailure = "timeout" | "invalid" | "eof" | "too-long" | "rejected";

/** A connection's preamble failed; the connection is closed after `onFailure`. */
export class PreambleError extends WireframeBaseError {
  /** What went wrong. */
  readonly reason: PreambleFailure;

  /**
   * Create the error.
   *
   * @param reason what went wrong
   * @param message human-readable description
   * @param cause the underlying error, e.g. what `decode` threw
   */
  constructor(reason: PreambleFailure, message: string, cause?: unknown) {
    super("ERR_PREAMBLE", message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}
