/**
 * The behaviour every Transport must have. `conformance()` registers flat
 * top-level tests, prefixed with the transport's name.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError, ConnectionResetError } from "../../src/transport/errors.ts";
import type { Transport } from "../../src/transport/types.ts";
import {
  connectedPair,
  drainToEndOrTransportError,
  loopTurn,
  macrotask,
  pattern,
  readAll,
  rejectsWith,
  writeAndClose,
} from "./_util.ts";
import { listenerConformance } from "./_conformance_listener.ts";

/** Per-transport knobs. */
export interface ConformanceOptions {
  /** Transport name in NetAddr (`"tcp"` or `"memory"`). */
  addrTransport: "tcp" | "memory";
  /** Upper bound for bytes resolved by write() but not yet read by the peer. */
  maxInFlight: number;
  /** Bytes pushed through the slow reader; default 64 MiB. */
  transferBytes?: number;
  /** Concurrent echo connections; default 200. */
  connections?: number;
}

const MiB = 1024 * 1024;

export function conformance(name: string, transport: Transport, options: ConformanceOptions): void {
  const transferBytes = options.transferBytes ?? 64 * MiB;

  test(`${name}: addresses of listener and both ends agree`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { listener, client, server } = pair;
      assert.equal(listener.addr.transport, options.addrTransport);
      assert.ok(listener.addr.port > 0);
      assert.equal(client.remoteAddr.port, listener.addr.port);
      assert.equal(server.localAddr.port, listener.addr.port);
      assert.equal(server.remoteAddr.port, client.localAddr.port);
      assert.equal(client.localAddr.transport, options.addrTransport);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: many small writes arrive complete and in order`, async () => {
    const pair = await connectedPair(transport);
    try {
      const received = readAll(pair.server.readable);
      const writer = pair.client.writable.getWriter();
      let offset = 0;
      for (let i = 0; i < 5000; i++) {
        const size = 1 + (i * 37) % 97;
        await writer.write(pattern(offset, size));
        offset += size;
      }
      await writer.close();
      assert.deepEqual(await received, pattern(0, offset));
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: a large transfer through a slow reader stays within the in-flight bound`, async () => {
    const pair = await connectedPair(transport);
    try {
      const chunkSize = 64 * 1024;
      let consumed = 0;
      let maxSeen = 0;
      const reading = (async () => {
        for await (const chunk of pair.server.readable) {
          // Each 64 KiB block starts with its index (u32 BE): order check.
          for (let p = consumed; p < consumed + chunk.byteLength; p++) {
            if (p % chunkSize !== 0) continue;
            const view = new DataView(chunk.buffer, chunk.byteOffset + (p - consumed));
            if (p - consumed + 4 <= chunk.byteLength) {
              assert.equal(view.getUint32(0), p / chunkSize, `block header at ${p}`);
            }
          }
          consumed += chunk.byteLength;
          // The slow part: one event-loop turn per 16 KiB read, so the
          // writer (and the socket) get many turns to run ahead.
          for (let turns = Math.ceil(chunk.byteLength / 16384); turns > 0; turns--) {
            await loopTurn();
          }
        }
      })();
      reading.catch(() => {}); // awaited below; don't leak if an assertion fails first
      const writer = pair.client.writable.getWriter();
      // One buffer, rewritten after every write: write() resolving means the
      // transport no longer needs it.
      const chunk = new Uint8Array(chunkSize).fill(0xab);
      const header = new DataView(chunk.buffer);
      let written = 0;
      for (let i = 0; written < transferBytes; i++) {
        header.setUint32(0, i);
        await writer.write(chunk);
        written += chunkSize;
        maxSeen = Math.max(maxSeen, written - consumed);
        assert.ok(
          written - consumed <= options.maxInFlight,
          `in flight ${written - consumed} > bound ${options.maxInFlight}`,
        );
      }
      await writer.close();
      await reading;
      assert.equal(consumed, written);
      assert.ok(maxSeen > 0);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: half-close from the client; the server still answers`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { client, server } = pair;
      await writeAndClose(client, pattern(0, 1000, 1));
      assert.deepEqual(await readAll(server.readable), pattern(0, 1000, 1));
      await writeAndClose(server, pattern(0, 3000, 2));
      assert.deepEqual(await readAll(client.readable), pattern(0, 3000, 2));
      // Both directions ended on both sides: fully closed without close().
      await Promise.all([client.closed, server.closed]);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: half-close from the server; the client still sends`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { client, server } = pair;
      await writeAndClose(server, pattern(0, 2000, 3));
      assert.deepEqual(await readAll(client.readable), pattern(0, 2000, 3));
      await writeAndClose(client, pattern(0, 500, 4));
      assert.deepEqual(await readAll(server.readable), pattern(0, 500, 4));
      await Promise.all([client.closed, server.closed]);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: close() mid-transfer resets the peer's writer with a TransportError`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { client, server } = pair;
      const clientReading = drainToEndOrTransportError(client.readable);
      const writer = client.writable.getWriter();
      const writing = (async () => {
        const chunk = new Uint8Array(64 * 1024);
        for (let total = 0; total < 1024 * MiB; total += chunk.byteLength) {
          await writer.write(chunk);
        }
      })();
      writing.catch(() => {}); // awaited below
      clientReading.catch(() => {});
      const reader = server.readable.getReader();
      assert.equal((await reader.read()).done, false);
      server.close();
      await assert.rejects(writing, (err: unknown) => {
        assert.ok(err instanceof ConnectionResetError, `expected a reset, got ${String(err)}`);
        return true;
      });
      await rejectsWith(reader.read(), "ERR_CONNECTION_CLOSED");
      await clientReading;
      await Promise.all([client.closed, server.closed]);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: reads and writes after close() reject with ConnectionClosedError`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { client, server } = pair;
      const writer = client.writable.getWriter();
      const reader = client.readable.getReader();
      client.close();
      client.close(); // idempotent
      await rejectsWith(writer.write(new Uint8Array(1)), "ERR_CONNECTION_CLOSED");
      await rejectsWith(reader.read(), "ERR_CONNECTION_CLOSED");
      await client.closed;
      await drainToEndOrTransportError(server.readable);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: a write blocked on a full buffer rejects when close() is called`, async () => {
    const pair = await connectedPair(transport);
    try {
      const writer = pair.client.writable.getWriter();
      // Nobody reads, so this cannot complete: the buffers in between are smaller.
      const blocked = writer.write(new Uint8Array(64 * MiB));
      await macrotask();
      pair.client.close();
      await assert.rejects(blocked, ConnectionClosedError);
      await pair.client.closed;
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: aborting the writable closes the whole connection`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { client, server } = pair;
      await client.writable.abort(new Error("producer failed"));
      await client.closed;
      await rejectsWith(client.readable.getReader().read(), "ERR_CONNECTION_CLOSED");
      await drainToEndOrTransportError(server.readable);
    } finally {
      await pair.dispose();
    }
  });

  test(`${name}: cancelling the readable and closing the writable fully closes`, async () => {
    const pair = await connectedPair(transport);
    try {
      const { client, server } = pair;
      await client.readable.cancel();
      await writeAndClose(client, pattern(0, 10, 8));
      await client.closed; // no close() needed: both directions are done
      assert.deepEqual(await readAll(server.readable), pattern(0, 10, 8));
    } finally {
      await pair.dispose();
    }
  });

  listenerConformance(name, transport, options.connections ?? 200);
}
