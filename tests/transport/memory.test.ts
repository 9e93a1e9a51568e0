import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/error.ts";
import { ConnectionResetError } from "../../src/transport/errors.ts";
import {
  DEFAULT_BUFFER_SIZE,
  listen,
  memoryPair,
  memoryTransport,
} from "../../src/transport/memory.ts";
import { concatBytes as concat } from "../../src/_internal/bytes.ts";
import { conformance } from "./_conformance.ts";
import { macrotask, pattern, readAll, rejectsWith } from "./_util.ts";

conformance("memory", memoryTransport, {
  addrTransport: "memory",
  // The pipe holds at most bufferSize; the readable queues nothing (HWM 0).
  maxInFlight: DEFAULT_BUFFER_SIZE,
});

test("memory: memoryPair validates bufferSize and rejects unknown options", () => {
  for (const bad of [0, -1, 1.5, 2 ** 31, "8"]) {
    assert.throws(() => memoryPair({ bufferSize: bad as number }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.option, "bufferSize");
      assert.match(err.message, /memoryPair: option "bufferSize" must be an integer from 1 to/);
      return true;
    });
  }
  assert.throws(() => memoryPair({ bufer: 1 } as never), /"bufer" is not a known option/);
});

test("memory: listen validates bufferSize", async () => {
  await assert.rejects(listen({ port: 0, bufferSize: 0 }), ConfigError);
});

test("memory: a written chunk is not kept once write() resolved: reusing it changes nothing the peer reads (releasesWrittenChunks)", async () => {
  const [a, b] = memoryPair({ bufferSize: 16 });
  assert.equal(a.releasesWrittenChunks, true);
  const writer = a.writable.getWriter();
  const received = readAll(b.readable);
  const chunk = new Uint8Array(40); // more than the pipe holds: written in three pieces
  for (let seed = 1; seed <= 3; seed++) {
    chunk.set(pattern(0, 40, seed));
    await writer.write(chunk); // resolves once every byte is in the pipe
  }
  chunk.fill(0);
  await writer.close();
  assert.deepEqual(
    await received,
    concat([pattern(0, 40, 1), pattern(0, 40, 2), pattern(0, 40, 3)]),
  );
});

test("memory: write() waits once bufferSize bytes are in flight", async () => {
  const [a, b] = memoryPair({ bufferSize: 10 });
  const writer = a.writable.getWriter();
  const reader = b.readable.getReader();
  await writer.write(pattern(0, 10));
  let resolved = false;
  const second = writer.write(pattern(10, 5)).then(() => resolved = true);
  await macrotask(); // everything in memory settles within microtasks
  assert.equal(resolved, false, "write resolved while the buffer was full");
  assert.deepEqual((await reader.read()).value, pattern(0, 10));
  await second;
  assert.deepEqual((await reader.read()).value, pattern(10, 5));
  a.close();
});

test("memory: a write larger than bufferSize is split and resolves when all is accepted", async () => {
  const [a, b] = memoryPair({ bufferSize: 4 });
  const writer = a.writable.getWriter();
  const write = writer.write(pattern(0, 10)).then(() => writer.close());
  const sizes: number[] = [];
  const got = await readAll(b.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sizes.push(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  ));
  await write;
  assert.deepEqual(got, pattern(0, 10));
  assert.deepEqual(sizes, [4, 4, 2]);
});

test("memory: the writer may reuse its buffer once write() resolves", async () => {
  const [a, b] = memoryPair();
  const writer = a.writable.getWriter();
  const buf = new Uint8Array([1, 2, 3]);
  await writer.write(buf);
  buf.fill(9);
  await writer.close();
  assert.deepEqual(await readAll(b.readable), new Uint8Array([1, 2, 3]));
});

test("memory: close() resets the peer: its reads and writes reject with ConnectionResetError", async () => {
  const [a, b] = memoryPair();
  const reader = b.readable.getReader();
  const pendingRead = reader.read();
  const writer = b.writable.getWriter();
  a.close();
  await rejectsWith(pendingRead, "ERR_CONNECTION_RESET");
  await rejectsWith(writer.write(new Uint8Array(1)), "ERR_CONNECTION_RESET");
  await Promise.all([a.closed, b.closed]);
});

test("memory: a peer that stopped reading and closed its writable resets our writer", async () => {
  const [a, b] = memoryPair({ bufferSize: 8 });
  const writer = a.writable.getWriter();
  await b.readable.cancel();
  const blocked = writer.write(new Uint8Array(100));
  await b.writable.close(); // b has nothing left to do: fully closed
  await b.closed;
  await assert.rejects(blocked, ConnectionResetError);
  assert.equal((await readAll(a.readable)).byteLength, 0); // b's FIN still arrives
  await a.closed;
});

test("memory: port 0 picks distinct free ports; a closed port can be listened on again", async () => {
  const one = await listen({ port: 0 });
  const two = await listen({ port: 0 });
  assert.notEqual(one.addr.port, two.addr.port);
  const port = one.addr.port;
  await one.close();
  const again = await listen({ port });
  assert.equal(again.addr.port, port);
  await Promise.all([two.close(), again.close()]);
});

test("memory: connections queued but never accepted are reset when the listener closes", async () => {
  const listener = await listen({ port: 0 });
  const client = await memoryTransport.connect({ port: listener.addr.port });
  await listener.close();
  await rejectsWith(client.readable.getReader().read(), "ERR_CONNECTION_RESET");
  await client.closed;
});
