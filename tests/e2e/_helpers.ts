/**
 * Helpers shared by the server, client and end-to-end tests: frame builders in
 * the default wire format, a raw-socket client that writes arbitrary bytes, a
 * bounded `waitFor`, a capturing logger and a server starter.
 *
 * Every wait here is bounded (a hang guard, never a correctness timer): a
 * broken library fails the test with a message instead of hanging the run.
 */
import { concatBytes } from "../../src/_internal/bytes.ts";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { defaultSerializer, type Envelope } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import type { LogFields, Logger } from "../../src/observe/logger.ts";
import { type ServerOptions, WireframeServer } from "../../src/server/server.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import type { Connection, Transport } from "../../src/transport/types.ts";

/** Upper bound for any single wait in a test. */
export const HANG_GUARD_MS = 10_000;

const codec = new LengthDelimitedCodec();

// ---------------------------------------------------------------- bytes

/** Concatenate byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** `n` as 4 big-endian bytes. */
export function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Read a u32 BE payload back. */
export function readU32(bytes: Uint8Array): number {
  assert.equal(bytes.length, 4, `expected a 4-byte payload, got ${bytes.length} bytes`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

/** UTF-8 bytes of `text`. */
export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

/** Decode UTF-8 bytes. */
export function str(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** One whole frame on the wire (length prefix + envelope) in the default format. */
export function frame(
  id: number,
  correlationId?: bigint,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return codec.encode(defaultSerializer.encode({ id, correlationId, payload }));
}

/** A length prefix followed by an arbitrary body (e.g. a malformed envelope). */
export function rawFrame(body: Uint8Array): Uint8Array {
  return concat(u32(body.length), body);
}

/** A body whose flags byte sets reserved bits (a malformed envelope). */
export function reservedFlagsBody(id = 1): Uint8Array {
  return concat(u32(id), Uint8Array.of(0x02));
}

// ---------------------------------------------------------------- waiting

/** Reject with a clear message if `promise` does not settle within `ms`. */
export async function deadline<T>(
  promise: Promise<T>,
  what: string,
  ms: number = HANG_GUARD_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang guard: ${what} (after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `predicate` (every few ms) until it holds; fail after the hang guard. */
export async function waitFor(
  predicate: () => boolean,
  what = "condition",
  ms: number = HANG_GUARD_MS,
): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`hang guard: waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise plus its resolver, for gates and "this happened" signals. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// ---------------------------------------------------------------- logging

/** One record a {@link captureLogger} received. */
export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every record, for asserting what was reported. */
export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord["level"]) => (message: string, fields?: LogFields) =>
    void records.push({ level, message, fields });
  return {
    records,
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

// ---------------------------------------------------------------- servers

/** A listening server that shuts itself down at scope exit. */
export interface Running<S> extends AsyncDisposable {
  server: WireframeServer<S>;
  port: number;
}

/**
 * Start `app` on port 0 (the runtime's TCP transport unless `options.transport`
 * is given). Disposal shuts down with a short deadline: a test that got that far
 * has already passed or failed, so only cleanup is left.
 */
export async function serve<S>(
  app: WireframeApp<S>,
  options: ServerOptions = {},
): Promise<Running<S>> {
  const server = new WireframeServer(app, options);
  const { port } = await server.listen({ hostname: "127.0.0.1", port: 0 });
  return {
    server,
    port,
    [Symbol.asyncDispose]: () => deadline(server.shutdown({ timeoutMs: 1_000 }), "shutdown"),
  };
}

/** An app with a silent logger (tests that expect faults would otherwise spam stderr). */
export function quietApp<S = undefined>(): WireframeApp<S> {
  return new WireframeApp<S>().logger(captureLogger().logger);
}

// ---------------------------------------------------------------- raw client

/** How a raw connection's readable ended. */
export type Ending = "eof" | "error";

/**
 * A client that writes arbitrary bytes and reads frames or raw bytes back,
 * for driving the server with input WireframeClient would never send.
 */
export class RawClient implements AsyncDisposable {
  readonly conn: Connection;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffer: Uint8Array = new Uint8Array(0);
  #ending: Ending | undefined;
  #changed = signal();
  readonly #pump: Promise<void>;

  readonly #autoAnswerFin: boolean;

  private constructor(conn: Connection, answerFin = false) {
    this.conn = conn;
    this.#autoAnswerFin = answerFin;
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {}); // a reset is observed through reads
    this.#pump = this.#readLoop();
  }

  /** Connect to `port` on `transport` (default: the running runtime's TCP). */
  static async connect(port: number, transport?: Transport): Promise<RawClient> {
    const t = transport ?? await runtimeTransport();
    return new RawClient(await t.connect({ hostname: "127.0.0.1", port }));
  }

  /**
   * Drive an existing connection, e.g. the server end accepted by a raw listener.
   * With `answerFin`, the peer's FIN is answered with ours, as a well-behaved server does.
   */
  static from(conn: Connection, options: { answerFin?: boolean } = {}): RawClient {
    return new RawClient(conn, options.answerFin);
  }

  /** Write bytes as they are. */
  write(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  /** Half-close: send FIN, keep reading. */
  closeWrite(): Promise<void> {
    return this.#writer.close();
  }

  /** Send our FIN if our side is still open: how a well-behaved peer answers the server's. */
  answerFin(): Promise<void> {
    return this.#writer.close().catch(() => {});
  }

  /** Abortive close of both directions. */
  close(): void {
    this.conn.close();
  }

  /** Exactly `n` bytes; fails if the connection ends first. */
  async readBytes(n: number, what = `${n} bytes`): Promise<Uint8Array> {
    await this.#until(() => this.#buffer.length >= n || this.#ending !== undefined, what);
    assert.ok(
      this.#buffer.length >= n,
      `connection ended (${this.#ending}) before ${what}; had ${this.#buffer.length} bytes`,
    );
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** The next frame, decoded with the default envelope. */
  async readFrame(what = "a frame"): Promise<Envelope> {
    const length = new DataView((await this.readBytes(4, what)).buffer).getUint32(0);
    return defaultSerializer.decode(await this.readBytes(length, what));
  }

  /** Wait for the readable to end; returns how, and any bytes not read yet. */
  async readEnd(what = "the connection to end"): Promise<{ how: Ending; rest: Uint8Array }> {
    await this.#until(() => this.#ending !== undefined, what);
    const rest = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return { how: this.#ending!, rest };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.conn.close();
    await deadline(this.#pump, "raw client read loop");
  }

  async #until(ready: () => boolean, what: string): Promise<void> {
    const until = Date.now() + HANG_GUARD_MS;
    while (!ready()) {
      await deadline(this.#changed.promise, `waiting for ${what}`, Math.max(1, until - Date.now()));
    }
  }

  async #readLoop(): Promise<void> {
    const reader = this.conn.readable.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) {
          this.#ending = "eof";
          if (this.#autoAnswerFin) await this.#writer.close().catch(() => {});
          break;
        }
        this.#buffer = concat(this.#buffer, value);
        this.#wake();
      }
    } catch {
      this.#ending = "error";
    } finally {
      this.#wake();
    }
  }

  #wake(): void {
    const changed = this.#changed;
    this.#changed = signal();
    changed.resolve();
  }
}
