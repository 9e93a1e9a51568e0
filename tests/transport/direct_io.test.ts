/**
 * Direct I/O (`openByteIo`): the connection contract holds through the
 * direct reader and writer on memory and on this runtime's TCP, the lock
 * is shared with `readable` / `writable` both ways, and a Connection of the
 * user's own falls back to its streams.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openByteIo } from "../../src/transport/_byte_io.ts";
import { ConnectionClosedError } from "../../src/transport/errors.ts";
import { DEFAULT_BUFFER_SIZE, memoryPair, memoryTransport } from "../../src/transport/memory.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import { UpgradableConnection } from "../../src/transport/upgradable_connection.ts";
import type { Connection } from "../../src/transport/types.ts";
import { conformance } from "./_conformance.ts";
import { directIoTransport } from "./_direct_io_transport.ts";
import { pattern, readAll, writeAndClose } from "./_util.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

conformance("memory via direct I/O", directIoTransport(memoryTransport), {
  addrTransport: "memory",
  maxInFlight: DEFAULT_BUFFER_SIZE,
});

conformance(`${runtime} tcp via direct I/O`, directIoTransport(await runtimeTransport()), {
  addrTransport: "tcp",
  maxInFlight: 32 * 1024 * 1024,
});

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

test("direct I/O: streams accessed after openByteIo are locked until the direct side is released", async () => {
  const [client, server] = memoryPair();
  const { reader, writer } = openByteIo(server);
  assert.equal(server.readable.locked, true);
  assert.equal(server.writable.locked, true);
  assert.throws(() => server.readable.getReader(), TypeError);
  assert.throws(() => server.writable.getWriter(), TypeError);
  assert.throws(() => openByteIo(server), TypeError);

  const clientWriter = client.writable.getWriter();
  await clientWriter.write(bytes(1, 2));
  assert.deepEqual((await reader.read()).value, bytes(1, 2));
  reader.releaseLock();
  writer.releaseLock();
  await assert.rejects(reader.read(), TypeError);
  await assert.rejects(writer.write(bytes(0)), TypeError);
  assert.equal(server.readable.locked, false);
  assert.equal(server.writable.locked, false);

  // The streams carry on from where the direct side stopped.
  await writeAndClose(server, bytes(3));
  assert.deepEqual(await readAll(client.readable), bytes(3));
  await clientWriter.write(bytes(4, 5));
  await clientWriter.close();
  assert.deepEqual(await readAll(server.readable), bytes(4, 5));
  await server.closed;
});

test("direct I/O: openByteIo after the streams were built takes their reader and writer", async () => {
  const [client, server] = memoryPair();
  const readable = server.readable;
  const { reader, writer } = openByteIo(server);
  assert.equal(readable.locked, true);
  assert.equal(server.writable.locked, true, "a writable built by openByteIo's fallback");
  await client.writable.getWriter().write(bytes(7));
  assert.deepEqual((await reader.read()).value, bytes(7));
  await writer.write(bytes(8));
  await writer.close();
  const clientReader = client.readable.getReader();
  assert.deepEqual((await clientReader.read()).value, bytes(8));
  assert.equal((await clientReader.read()).done, true);
  client.close();
});

test("direct I/O: releasing the reader rejects the read waiting with a TypeError", async () => {
  const [client, server] = memoryPair();
  const { reader } = openByteIo(server);
  const waiting = reader.read();
  reader.releaseLock();
  await assert.rejects(waiting, TypeError);
  client.close();
});

test("direct I/O: a writer's desiredSize is 1 when idle, 0 while a write waits for room, null once failed", async () => {
  const [client, server] = memoryPair({ bufferSize: 4 });
  const { writer } = openByteIo(server);
  assert.equal(writer.desiredSize, 1);
  const first = writer.write(pattern(0, 8));
  const second = writer.write(pattern(8, 4));
  assert.equal(writer.desiredSize, -1);
  const received = readAll(client.readable);
  await first;
  await second;
  assert.equal(writer.desiredSize, 1);
  await writer.close();
  assert.equal(writer.desiredSize, 0);
  await writer.closed;
  assert.deepEqual(await received, pattern(0, 12));

  const [other] = memoryPair();
  const io = openByteIo(other);
  other.close();
  await assert.rejects(io.writer.write(bytes(1)), ConnectionClosedError);
  assert.equal(io.writer.desiredSize, null);
  await assert.rejects(io.writer.closed, ConnectionClosedError);
  await assert.rejects(io.reader.read(), ConnectionClosedError);
});

test("direct I/O: a cancelled reader ends its waiting read and the connection closes once written out", async () => {
  const [client, server] = memoryPair();
  const { reader, writer } = openByteIo(server);
  const waiting = reader.read();
  await reader.cancel();
  assert.equal((await waiting).done, true);
  await writer.write(bytes(9));
  await writer.close();
  await server.closed;
  assert.deepEqual(await readAll(client.readable), bytes(9));
});

test("direct I/O: a Connection of the user's own is read and written through its streams", async () => {
  const [client, server] = memoryPair();
  // Only the public interface: no direct I/O of its own.
  const own: Connection = {
    readable: server.readable,
    writable: server.writable,
    localAddr: server.localAddr,
    remoteAddr: server.remoteAddr,
    closed: server.closed,
    close: () => server.close(),
  };
  const { reader, writer } = openByteIo(own);
  assert.equal(own.readable.locked, true);
  assert.equal(own.writable.locked, true);
  await client.writable.getWriter().write(bytes(1));
  assert.deepEqual((await reader.read()).value, bytes(1));
  await writer.write(bytes(2));
  await writer.close();
  assert.deepEqual(await readAll(client.readable), bytes(2));
  client.close();
});

test("direct I/O: an UpgradableConnection forwards to the raw connection's direct I/O, and locks as a connection does", async () => {
  const [client, raw] = memoryPair();
  const conn = new UpgradableConnection(raw, { cert: "", key: "" });
  // The raw connection's sides belong to the wrapper.
  assert.equal(raw.readable.locked, true);
  assert.equal(raw.writable.locked, true);
  const { reader, writer } = openByteIo(conn);
  assert.equal(conn.readable.locked, true);
  assert.throws(() => conn.writable.getWriter(), TypeError);
  await client.writable.getWriter().write(bytes(5, 6));
  assert.deepEqual((await reader.read()).value, bytes(5, 6));
  assert.equal(writer.desiredSize, 1);
  await writer.write(bytes(7));
  await writer.close();
  await writer.closed;
  assert.equal(writer.desiredSize, 0);
  assert.deepEqual(await readAll(client.readable), bytes(7));
  reader.releaseLock();
  assert.equal(conn.readable.locked, false);
  conn.close();
  await conn.closed;
});
