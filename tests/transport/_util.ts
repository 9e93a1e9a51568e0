/** Helpers shared by the transport tests. */
import assert from "node:assert/strict";
import { concatBytes } from "../../src/_internal/bytes.ts";
import type { Connection, Listener, Transport } from "../../src/transport/types.ts";
import { TransportError } from "../../src/transport/errors.ts";

/** Deterministic bytes keyed by absolute stream position, so loss or reordering shows. */
export function pattern(offset: number, length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const p = offset + i;
    out[i] = (p ^ (p >>> 8) ^ (p >>> 16) ^ seed) & 0xff;
  }
  return out;
}

/** Read a stream to its end and concatenate. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of readable) parts.push(chunk);
  return concatBytes(parts);
}

/** Write `bytes` and half-close. */
export async function writeAndClose(conn: Connection, bytes: Uint8Array): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(bytes);
  await writer.close();
}

/** Yield to the event loop once (lets sockets and timers make progress). */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Yield for one event-loop turn, I/O included. Cheaper than a 0 ms timer
 * (which Deno clamps to 4 ms when nested), so it can be used per chunk.
 */
export function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The next connection a listener yields; fails if iteration ends instead. */
export async function accept(it: AsyncIterator<Connection>): Promise<Connection> {
  const next = await it.next();
  assert.equal(next.done, false, "listener ended instead of yielding a connection");
  return next.value as Connection;
}

/** A listener, a connected client and the server end of that connection. */
/**
 * Accept until a connection delivers bytes, and check they are `expected`.
 * Peers that left early may still be yielded (the reset raced the accept);
 * their readables fail or end empty and are skipped.
 */
export async function acceptUntilData(
  it: AsyncIterator<Connection>,
  expected: Uint8Array,
): Promise<void> {
  for (;;) {
    const conn = await accept(it);
    const bytes = await readAll(conn.readable).catch(() => new Uint8Array(0));
    conn.close();
    if (bytes.byteLength > 0) {
      assert.deepEqual(bytes, expected);
      return;
    }
  }
}

export interface Pair {
  listener: Listener;
  client: Connection;
  server: Connection;
  /** Close everything (idempotent). */
  dispose(): Promise<void>;
}

export async function connectedPair(transport: Transport): Promise<Pair> {
  const listener = await transport.listen({ port: 0 });
  const it = listener[Symbol.asyncIterator]();
  const client = await transport.connect({ port: listener.addr.port });
  const server = await accept(it);
  return {
    listener,
    client,
    server,
    async dispose() {
      client.close();
      server.close();
      await listener.close();
      await Promise.all([client.closed, server.closed]);
    },
  };
}

/** Assert `promise` rejects with a TransportError of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/**
 * Read until the stream ends or errors; an error must be a TransportError.
 * (Over TCP a peer's close() shows as FIN or RST depending on unread data.)
 */
export async function drainToEndOrTransportError(
  readable: ReadableStream<Uint8Array>,
): Promise<void> {
  const reader = readable.getReader();
  try {
    while (!(await reader.read()).done) { /* discard */ }
  } catch (err) {
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
  }
}
