/**
 * The slice of Bun's socket API the Bun transport uses, declared by hand:
 * `bun-types` clashes with Deno's types under `deno check`, and reaching Bun
 * through `globalThis` keeps this module loadable (not usable) on Deno.
 *
 * Behaviour relied on, checked against Bun 1.4.5 (see docs/transports.md):
 * - `write()` returns the bytes the kernel took (possibly fewer, or 0) and
 *   buffers nothing; `-1` once the socket is closed. `drain` fires when it
 *   can take more.
 * - Every `data` call gets a freshly allocated Buffer, never reused.
 * - `shutdown()` with no argument sends FIN and keeps reading.
 * - With `allowHalfOpen: true` a peer FIN calls `end` and leaves the socket
 *   writable; once both sides sent FIN, `close` is called without `end` for
 *   the side that shut down first.
 * - `close(socket, error)` carries an error (e.g. ECONNRESET) on reset.
 * - `socket.close()` runs the `close` handler synchronously.
 * - With `tls`, `open` runs before the handshake and `handshake(socket,
 *   success, error)` after it; a client whose check failed gets
 *   `success === false` and is closed by Bun. A server's `error` there is
 *   about the (absent) client certificate and means nothing to us.
 *
 * @module
 */
import { UnsupportedRuntimeError } from "./errors.ts";

/** A connected Bun TCP socket; `D` is the per-socket `data` slot. */
export interface BunSocket<D> {
  data: D | undefined;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  shutdown(halfClose?: boolean): void;
  close(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(noDelay?: boolean): boolean;
}

/** Socket event handlers, shared by every socket of a listener or connect call. */
export interface BunSocketHandler<D> {
  open?(socket: BunSocket<D>): void;
  data(socket: BunSocket<D>, data: Uint8Array): void;
  drain?(socket: BunSocket<D>): void;
  end?(socket: BunSocket<D>): void;
  close?(socket: BunSocket<D>, error?: Error): void;
  error?(socket: BunSocket<D>, error: Error): void;
  handshake?(socket: BunSocket<D>, success: boolean, error: Error | null): void;
}

/** Bun's `tls` option: a server's identity, or what a client trusts. */
export interface BunTlsOptions {
  cert?: string;
  key?: string;
  ca?: string[];
  serverName?: string;
}

/** What `Bun.listen` returns. */
export interface BunTcpServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

/** Options common to `Bun.listen` and `Bun.connect`. */
export interface BunSocketOptions<D> {
  hostname: string;
  port: number;
  allowHalfOpen?: boolean;
  reusePort?: boolean;
  tls?: BunTlsOptions;
  socket: BunSocketHandler<D>;
}

/** The `Bun` global, reduced to the two calls we make. */
export interface BunApi {
  listen<D>(options: BunSocketOptions<D>): BunTcpServer;
  connect<D>(options: BunSocketOptions<D>): Promise<BunSocket<D>>;
}

/** The `Bun` global, or a typed error when not running on Bun. */
export function bunApi(): BunApi {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (bun === undefined) {
    throw new UnsupportedRuntimeError("the Bun transport needs the Bun runtime");
  }
  return bun;
}

/** The message of a Bun error, for ours. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `code` of a Node-style system error (`"ECONNREFUSED"`...), if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}
