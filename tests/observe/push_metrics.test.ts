/**
 * Telemetry of pushes and re-assembly, with the SDK's in-memory exporters:
 * a dead-lettered and a rate-limited push mark their request's span and
 * count in stats() and the metrics; bytes held by re-assembly show in
 * wireframe.server.reassembly.bytes while a message is incomplete.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { LenFlag32K } from "../../src/fragment/mod.ts";
import type { DeadLetter } from "../../src/push/dead_letter.ts";
import { ATTR, EVENT, METRIC, SPAN } from "../../src/observe/telemetry_names.ts";
import {
  concat,
  quietApp,
  RawClient,
  rawFrame,
  serve,
  str,
  text,
  waitFor,
} from "../e2e/_helpers.ts";
import { inMemoryOtel } from "./_otel.ts";

const FILL = 1, TRICKLE = 2;

test("a dead-lettered push and a rate-limited one mark their requests' spans and are counted", async () => {
  const otel = inMemoryOtel();
  const letters: DeadLetter[] = [];
  const app = quietApp()
    .outbound({ highWaterMark: 1024 })
    .rateLimit({ perSecond: 0.001, burst: 3 })
    .deadLetterQueue(new WritableStream({ write: (letter) => void letters.push(letter) }))
    // Handlers report what happened instead of asserting: a handler that threw would leave
    // its request unanswered.
    .route(FILL, async (_request, ctx) => {
      const big = { id: 9, correlationId: undefined, payload: new Uint8Array(2048) };
      const first = ctx.push.tryPush(big); // over the high mark now
      const second = await ctx.push.pushWithPolicy(big, {
        policy: "drop-if-full",
        priority: "low",
      });
      return text(`${first},${second}`);
    })
    .route(TRICKLE, (_request, ctx) => {
      // Small pushes until the bucket runs dry (burst 3, refilled once in 1000 s).
      const small = { id: 9, correlationId: undefined, payload: text("s") };
      const results: string[] = [];
      for (let i = 0; i < 20 && !results.includes("rate-limited"); i++) {
        results.push(ctx.push.tryPush(small));
      }
      return text(results.join(","));
    });
  await using running = await serve(app, {
    telemetry: { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider },
  });
  const client = await WireframeClient.connect({ port: running.port });
  assert.equal(str((await client.request(FILL, new Uint8Array(0))).payload), "queued,dropped");
  const trickled = str((await client.request(TRICKLE, new Uint8Array(0))).payload).split(",");
  assert.equal(trickled.at(-1), "rate-limited");
  assert.ok(trickled.slice(0, -1).every((r) => r === "queued"), trickled.join());
  const queued = 1 + trickled.length - 1;
  await client.close();
  await waitFor(() => running.server.stats().connectionsClosed === 1, "the close");

  const requests = otel.spans().filter((s) => s.name === SPAN.request);
  const fill = requests.find((s) => s.attributes[ATTR.messageId] === FILL)!;
  const letter = fill.events.find((e) => e.name === EVENT.pushDeadLettered);
  assert.equal(letter?.attributes?.[ATTR.deadLetterReason], "full");
  assert.equal(letter?.attributes?.[ATTR.pushPriority], "low");
  assert.ok(fill.events.some((e) => e.name === EVENT.pushDropped));
  const trickle = requests.find((s) => s.attributes[ATTR.messageId] === TRICKLE)!;
  assert.ok(trickle.events.some((e) => e.name === EVENT.pushRateLimited));

  const stats = running.server.stats();
  assert.deepEqual(stats.pushes, { queued, dropped: 1, "rate-limited": 1 });
  assert.deepEqual(stats.deadLetters, { full: 1, "connection-closed": 0 });
  assert.equal(letters.length, 1);
  const metrics = await otel.collect();
  assert.equal(metrics.value(METRIC.pushes, { [ATTR.pushOutcome]: "rate-limited" }), 1);
  assert.equal(metrics.value(METRIC.deadLetters, { [ATTR.deadLetterReason]: "full" }), 1);
});

test("bytes held for an incomplete fragmented message show in wireframe.server.reassembly.bytes", async () => {
  const otel = inMemoryOtel();
  const app = quietApp().fragmentation(new LenFlag32K()).route(1, (request) => request.payload);
  await using running = await serve(app, {
    telemetry: { meterProvider: otel.meterProvider },
  });
  await using raw = await RawClient.connect(running.port);
  // A first fragment (final bit clear) of 5 payload bytes: the message is incomplete.
  const fragment = rawFrame(concat(Uint8Array.of(0x00, 0x05), Uint8Array.of(1, 2, 3, 4, 5)));
  await raw.write(fragment);
  await waitFor(() => running.server.stats().bytesReceived === fragment.length, "the read");
  assert.equal((await otel.collect()).value(METRIC.reassemblyBytes), 5);
  raw.close();
  await waitFor(() => running.server.stats().connectionsClosed === 1, "the close");
  assert.equal((await otel.collect()).value(METRIC.reassemblyBytes), 0);
});
