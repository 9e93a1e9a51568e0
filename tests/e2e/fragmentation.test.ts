/** Fragmentation through a real server over loopback: big messages, eviction, budget, isolation. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { defaultSerializer } from "../../src/codec/envelope.ts";
import { ReassemblyBudgetError, ReassemblyTimeoutError } from "../../src/fragment/errors.ts";
import { LenFlag32K } from "../../src/fragment/len_flag_32k.ts";
import { fragmentEchoApp, fragmentFraming } from "../../examples/fragment_echo_server.ts";
import {
  captureLogger,
  concat,
  deadline,
  RawClient,
  readU32,
  serve,
  str,
  text,
  u32,
  waitFor,
} from "./_helpers.ts";
import { WireframeApp } from "../../src/app/app.ts";
import { startExample } from "./_process.ts";

const MiB = 1024 * 1024;
const pattern = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) % 251);

/** One frame (4-byte length) carrying one LenFlag32K fragment. */
function lenFlagFrame(payload: Uint8Array, final: boolean): Uint8Array {
  const header = Uint8Array.of((final ? 0x80 : 0) | (payload.length >> 8), payload.length & 0xff);
  return concat(u32(2 + payload.length), header, payload);
}

/** Echo through a fragmenting client: proves the server (and the peer) are unaffected. */
async function echoes(port: number, timeoutMs = 30_000): Promise<void> {
  const { codec, strategy, limits } = fragmentFraming(timeoutMs);
  await using client = await WireframeClient.connect({
    port,
    codec,
    fragmentation: { strategy, limits },
  });
  const reply = await deadline(client.request(1, text("still fine")), "a healthy echo");
  assert.equal(str(reply.payload), "still fine");
}

test("fragmentation: a 5 MiB request and a 5 MiB streamed response through the default codec", async () => {
  const big = pattern(5 * MiB, 7);
  const app = new WireframeApp()
    .fragmentation(new LenFlag32K())
    .route(1, (request) => request.payload)
    .route(2, async function* () {
      yield pattern(5 * MiB, 9);
      yield text("end");
    });
  await using running = await serve(app);
  await using client = await WireframeClient.connect({
    port: running.port,
    fragmentation: { strategy: new LenFlag32K() },
  });
  const echoed = await deadline(client.request(1, big), "the 5 MiB echo", 60_000);
  assert.equal(echoed.payload.length, big.length);
  assert.ok(echoed.payload.every((b, i) => b === big[i]), "the echoed 5 MiB are intact");
  const frames = [];
  for await (
    const frame of client.stream(2, new Uint8Array(0), { isEnd: (f) => str(f.payload) === "end" })
  ) {
    frames.push(frame.payload);
  }
  assert.equal(frames.length, 2);
  const expected = pattern(5 * MiB, 9);
  assert.ok(frames[0]!.length === expected.length && frames[0]!.every((b, i) => b === expected[i]));
});

test("fragmentation: a message that never finishes is evicted at the re-assembly timeout", async () => {
  const { logger, records } = captureLogger();
  await using running = await serve(fragmentEchoApp(200).logger(logger));
  await using stuck = await RawClient.connect(running.port);
  // The first fragment of a message whose final fragment never comes.
  const body = defaultSerializer.encode({ id: 1, correlationId: 1n, payload: pattern(100, 1) });
  await stuck.write(lenFlagFrame(body.subarray(0, 50), false));
  await echoes(running.port); // meanwhile, another connection is served
  const { how } = await stuck.readEnd("the server to evict the partial message and close");
  assert.equal(how, "eof");
  await waitFor(
    () => records.some((r) => r.fields?.error instanceof ReassemblyTimeoutError),
    "a logged ReassemblyTimeoutError",
  );
  assert.ok(running.server.stats().connectionErrors >= 1);
  await echoes(running.port);
});

test("fragmentation: a flood of 1-byte fragments is cut off at the per-connection budget", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger)
    .fragmentation(new LenFlag32K(), {
      maxMessageSize: 64 * 1024,
      maxBufferedBytes: 64 * 1024,
      fragmentOverhead: 64,
    })
    .route(1, (request) => request.payload);
  await using running = await serve(app);
  await using flood = await RawClient.connect(running.port);
  // 10,000 one-byte fragments would pin 10,000 × (1 + 64) bytes: the 64 KiB budget ends it near 1,000.
  const one = lenFlagFrame(Uint8Array.of(0x2a), false);
  const frames = new Uint8Array(one.length * 10_000);
  for (let i = 0; i < 10_000; i++) frames.set(one, i * one.length);
  await flood.write(frames).catch(() => {}); // the server may close before reading it all
  const { how } = await flood.readEnd("the server to cut the flood off");
  assert.ok(how === "eof" || how === "error");
  await waitFor(
    () => records.some((r) => r.fields?.error instanceof ReassemblyBudgetError),
    "a logged ReassemblyBudgetError",
  );
  // The server and other connections carry on, with fragmentation intact.
  await using client = await WireframeClient.connect({
    port: running.port,
    fragmentation: { strategy: new LenFlag32K() },
  });
  assert.equal(
    readU32((await deadline(client.request(1, u32(7)), "echo after the flood")).payload),
    7,
  );
});

test("fragment echo server example: 5 MiB over 8 KiB frames, and SIGTERM exits 0", async () => {
  await using server = await startExample("fragment_echo_server.ts", [
    "--reassembly-timeout-ms",
    "5000",
  ]);
  const { codec, strategy, limits } = fragmentFraming();
  const client = await WireframeClient.connect({
    hostname: server.hostname,
    port: server.port,
    codec,
    fragmentation: { strategy, limits },
  });
  try {
    const big = pattern(5 * MiB, 3);
    const echoed = await deadline(client.request(1, big), "the 5 MiB echo", 60_000);
    assert.ok(echoed.payload.length === big.length && echoed.payload.every((b, i) => b === big[i]));
  } finally {
    await client.close();
  }
  assert.equal(await server.terminate(), 0);
});
