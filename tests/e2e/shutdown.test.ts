/** Real loopback sockets: graceful shutdown and teardown accounting. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeClient } from "../../src/client/client.ts";
import { WireframeError } from "../../src/error.ts";
import { ECHO } from "../../examples/echo_server.ts";
import {
  captureLogger,
  concat,
  deadline,
  frame,
  RawClient,
  rawFrame,
  readU32,
  reservedFlagsBody,
  serve,
  signal,
  text,
  u32,
  waitFor,
} from "./_helpers.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";

const GATED = 2;
const STUCK = 3;
const IO_FAULT = 4;

test("graceful shutdown over TCP: the stream in flight completes, then shutdown resolves", async () => {
  const gate = signal();
  const app = new WireframeApp().logger(captureLogger().logger).route(GATED, async function* () {
    yield u32(0);
    await gate.promise;
    for (let i = 1; i < 1_000; i++) yield u32(i);
  });
  const running = await serve(app);
  const client = await WireframeClient.connect({ port: running.port });
  try {
    const isEnd = (f: { payload: Uint8Array }) => readU32(f.payload) === 999;
    const stream = client.stream(GATED, new Uint8Array(), { isEnd })[Symbol.asyncIterator]();
    assert.equal(readU32((await stream.next()).value!.payload), 0);
    let finished = false;
    const shutdown = running.server.shutdown({ timeoutMs: 60_000 }).then(() => (finished = true));
    // Once the listener is closed the server is draining: the stream must still complete.
    const transport = await runtimeTransport();
    await waitForRefused(() => transport.connect({ port: running.port }));
    assert.equal(finished, false);
    gate.resolve();
    let expected = 1;
    for (let step = await stream.next(); !step.done; step = await stream.next()) {
      assert.equal(readU32(step.value.payload), expected++);
    }
    assert.equal(expected, 1_000, "every frame arrived before the connection closed");
    await deadline(shutdown, "shutdown");
  } finally {
    gate.resolve();
    await client.close();
    await running[Symbol.asyncDispose]();
  }
});

test("teardown runs exactly once per connection under a mix of endings", async () => {
  const setups: number[] = [];
  const teardowns: number[] = [];
  const stuck = signal();
  const app = new WireframeApp<number>()
    .logger(captureLogger().logger)
    .onConnectionSetup((info) => {
      setups.push(info.connectionId);
      return info.connectionId;
    })
    .onConnectionTeardown((id) => void teardowns.push(id))
    .route(ECHO, (req) => req.payload)
    .route(STUCK, async function* (_req, ctx) {
      yield u32(0);
      stuck.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    })
    .route(IO_FAULT, () => {
      throw WireframeError.io(new Error("backend gone"));
    });
  const running = await serve(app);
  const open: AsyncDisposable[] = [];
  try {
    const ended = (n: number) => waitFor(() => teardowns.length === n, `${n} teardowns`);
    // 1. a polite client
    const polite = await WireframeClient.connect({ port: running.port });
    await polite.request(ECHO, text("x"));
    await polite.close();
    await ended(1);
    // 2-6. raw peers: reset mid-frame, malformed, oversize, half-close, I/O fault
    const scripts: ((raw: RawClient) => Promise<void>)[] = [
      async (raw) => {
        await raw.write(frame(ECHO, 1n, text("partial")).subarray(0, 9));
        raw.close();
      },
      (raw) => raw.write(rawFrame(reservedFlagsBody())),
      (raw) => raw.write(u32(64 * 1024 * 1024)),
      async (raw) => {
        await raw.write(frame(ECHO, 1n));
        await raw.closeWrite();
      },
      (raw) => raw.write(concat(frame(IO_FAULT, 1n), frame(ECHO, 2n))),
    ];
    for (const [i, script] of scripts.entries()) {
      const raw = await RawClient.connect(running.port);
      open.push(raw);
      await script(raw);
      if (i > 0) { // the server closes the others: answer its FIN like a real client
        await raw.readEnd();
        await raw.answerFin();
      }
      await ended(2 + i);
    }
    // 7-8. idle connections and 9. a stream stuck until force-closed, ended by shutdown
    for (let i = 0; i < 2; i++) {
      const idle = await WireframeClient.connect({ port: running.port });
      open.push(idle);
      await idle.request(ECHO, text("idle"));
    }
    const streaming = await RawClient.connect(running.port);
    open.push(streaming);
    await streaming.write(frame(STUCK, 1n));
    await streaming.readFrame();
    await deadline(stuck.promise, "stream stuck");
    await deadline(running.server.shutdown({ timeoutMs: 100 }), "shutdown");
  } finally {
    for (const resource of open) await resource[Symbol.asyncDispose]();
    await running[Symbol.asyncDispose]();
  }
  assert.equal(setups.length, 9);
  assert.deepEqual([...teardowns].sort((a, b) => a - b), [...setups].sort((a, b) => a - b));
  assert.equal(new Set(teardowns).size, teardowns.length, "no connection torn down twice");
});

async function waitForRefused(connect: () => Promise<{ close(): void }>): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      (await connect()).close();
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("hang guard: the listener never closed");
}
