/** WireframeClient.stream(): multi-frame responses, isEnd, abandoning (memory transport). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { captureLogger, readU32, signal, str, text, u32 } from "../e2e/_helpers.ts";
import { connectClient, serveMemory } from "../server/_memory.ts";

const END = 99;

/** id 2: u32 count n → n frames 0..n-1, then a terminator frame with id 99. */
function countingApp(gate?: Promise<void>) {
  return new WireframeApp()
    .logger(captureLogger().logger)
    .route(1, (req) => req.payload)
    .route(2, async function* (req) {
      const n = readU32(req.payload);
      for (let i = 0; i < n; i++) {
        if (i === 2 && gate) await gate;
        yield u32(i);
      }
      yield { id: END, payload: new Uint8Array(0) };
    });
}

async function collect(frames: AsyncIterable<Envelope>): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for await (const f of frames) out.push(f);
  return out;
}

test("stream() yields every frame of the response, up to and including the isEnd frame", async () => {
  await using running = await serveMemory(countingApp());
  const client = await connectClient(running.port);
  try {
    const frames = await collect(client.stream(2, u32(5), { isEnd: (f) => f.id === END }));
    assert.deepEqual(frames.map((f) => f.id), [2, 2, 2, 2, 2, END]);
    assert.deepEqual(frames.slice(0, 5).map((f) => readU32(f.payload)), [0, 1, 2, 3, 4]);
    assert.ok(frames.every((f) => f.correlationId === 1n));
    assert.equal(str((await client.request(1, text("after"))).payload), "after");
  } finally {
    await client.close();
  }
});

test("two streams in flight each get only their own frames", async () => {
  await using running = await serveMemory(countingApp());
  const client = await connectClient(running.port);
  try {
    const isEnd = (f: Envelope) => f.id === END;
    const [a, b] = await Promise.all([
      collect(client.stream(2, u32(3), { isEnd })),
      collect(client.stream(2, u32(2), { isEnd })),
    ]);
    assert.equal(a.length, 4);
    assert.equal(b.length, 3);
    assert.ok(a.every((f) => f.correlationId === 1n) && b.every((f) => f.correlationId === 2n));
  } finally {
    await client.close();
  }
});

test("breaking out of a stream abandons it; its later frames are ignored", async () => {
  const gate = signal();
  await using running = await serveMemory(countingApp(gate.promise));
  const client = await connectClient(running.port);
  try {
    const got: number[] = [];
    for await (const f of client.stream(2, u32(50), { isEnd: (f) => f.id === END })) {
      got.push(readU32(f.payload));
      if (got.length === 2) break;
    }
    assert.deepEqual(got, [0, 1]);
    gate.resolve(); // frames 2..49 and the terminator now arrive for an abandoned stream
    // The server answers in order, so this reply comes after every late frame was dispatched.
    const reply = await client.request(1, text("next"));
    assert.deepEqual([reply.correlationId, str(reply.payload)], [2n, "next"]);
  } finally {
    gate.resolve();
    await client.close();
  }
});

test("aborting a stream's signal ends its iteration with the signal's reason", async () => {
  const gate = signal();
  await using running = await serveMemory(countingApp(gate.promise));
  const client = await connectClient(running.port);
  try {
    const controller = new AbortController();
    const reason = new Error("enough");
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const f of client.stream(2, u32(10), { signal: controller.signal })) {
          got.push(readU32(f.payload));
          if (got.length === 2) controller.abort(reason);
        }
      })(),
      reason,
    );
    assert.deepEqual(got, [0, 1]);
    gate.resolve();
    assert.equal(str((await client.request(1, text("fine"))).payload), "fine");
  } finally {
    gate.resolve();
    await client.close();
  }
});
