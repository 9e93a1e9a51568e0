/**
 * The span events that the scripted session in telemetry.test.ts does not
 * reach: a malformed frame dropped by the malformed-frame policy, a phase
 * change (on the request span of the handler that made it), and the preamble's outcome
 * (accepted, failed), a partial message evicted by the re-assembly
 * timeout, each with its attribute, and the rejected-frames
 * metric by reason. Event-driven: each test waits for replies and closes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { WireframeApp } from "../../src/app/app.ts";
import { LenFlag32K } from "../../src/fragment/mod.ts";
import { ATTR, EVENT, METRIC, SPAN } from "../../src/observe/telemetry_names.ts";
import {
  concat,
  frame,
  quietApp,
  RawClient,
  rawFrame,
  reservedFlagsBody,
  serve,
  str,
  text,
} from "../e2e/_helpers.ts";
import { inMemoryOtel } from "./_otel.ts";

const ECHO = 1, LOGIN = 2;

/** The events named `name` on the one connection span. */
function connectionEvents(spans: ReadableSpan[], name: string) {
  const connections = spans.filter((s) => s.name === SPAN.connection);
  assert.equal(connections.length, 1, "one connection span");
  return connections[0]!.events.filter((e) => e.name === name);
}

test("a malformed frame the policy drops is a wireframe.frame.rejected event (malformed) and counted", async () => {
  const otel = inMemoryOtel();
  const app = quietApp()
    .malformedFrames({ policy: "drop", maxConsecutive: 8 })
    .route(ECHO, (request) => request.payload);
  await using running = await serve(app, {
    telemetry: { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider },
  });
  await using raw = await RawClient.connect(running.port);
  await raw.write(concat(rawFrame(reservedFlagsBody(ECHO)), frame(ECHO, 1n, text("after"))));
  assert.equal(str((await raw.readFrame()).payload), "after", "the next frame is still served");
  raw.close();
  await running.server.shutdown({ timeoutMs: 1_000 });

  const rejected = connectionEvents(otel.spans(), EVENT.frameRejected);
  assert.deepEqual(rejected.map((e) => e.attributes?.[ATTR.rejectReason]), ["malformed"]);
  const metrics = await otel.collect();
  assert.equal(metrics.value(METRIC.framesRejected, { [ATTR.rejectReason]: "malformed" }), 1);
  assert.equal(metrics.value(METRIC.framesRejected, { [ATTR.rejectReason]: "too-large" }), 0);
});

test("ctx.enterPhase marks its request's span with wireframe.phase.changed and the new phase", async () => {
  const otel = inMemoryOtel();
  const app = quietApp()
    .phases({ initial: "handshake" })
    .route(LOGIN, (_request, ctx) => {
      ctx.enterPhase("ready");
      return text("welcome");
    }, { phase: "handshake" })
    .route(ECHO, (request) => request.payload);
  await using running = await serve(app, { telemetry: { tracerProvider: otel.tracerProvider } });
  await using raw = await RawClient.connect(running.port);
  await raw.write(concat(frame(LOGIN, 1n), frame(ECHO, 2n, text("hi"))));
  assert.equal(str((await raw.readFrame()).payload), "welcome");
  assert.equal(str((await raw.readFrame()).payload), "hi", "routed in the new phase");
  raw.close();
  await running.server.shutdown({ timeoutMs: 1_000 });

  // Recorded where it happened: on the span of the request whose handler moved the phase.
  const login = otel.spans().filter((s) =>
    s.name === SPAN.request && s.attributes[ATTR.messageId] === LOGIN
  );
  assert.equal(login.length, 1, "one LOGIN request span");
  const changed = login[0]!.events.filter((e) => e.name === EVENT.phaseChanged);
  assert.deepEqual(changed.map((e) => e.attributes?.[ATTR.phase]), ["ready"]);
  assert.deepEqual(connectionEvents(otel.spans(), EVENT.phaseChanged), [], "not on the connection");
});

/** An echo app whose connections start with the line `HELLO\n`. */
function preambleApp(): WireframeApp {
  return quietApp()
    .withPreamble({
      decode(bytes) {
        const end = bytes.indexOf(0x0a);
        if (end < 0) return undefined;
        if (str(bytes.subarray(0, end)) !== "HELLO") throw new Error("unknown greeting");
        return { value: "hello", length: end + 1 };
      },
      maxBytes: 64,
    })
    .route(ECHO, (request) => request.payload);
}

for (const outcome of ["accepted", "failed"] as const) {
  test(`a preamble ${outcome} is a wireframe.preamble event and the span's preamble outcome`, async () => {
    const otel = inMemoryOtel();
    await using running = await serve(preambleApp(), {
      telemetry: { tracerProvider: otel.tracerProvider },
    });
    await using raw = await RawClient.connect(running.port);
    if (outcome === "accepted") {
      await raw.write(concat(text("HELLO\n"), frame(ECHO, 1n, text("hi"))));
      assert.equal(str((await raw.readFrame()).payload), "hi");
      raw.close();
    } else {
      await raw.write(text("GET / HTTP/1.1\r\n"));
      await raw.readEnd("the close after a bad preamble");
    }
    await running.server.shutdown({ timeoutMs: 1_000 });

    const events = connectionEvents(otel.spans(), EVENT.preamble);
    assert.deepEqual(events.map((e) => e.attributes?.[ATTR.preambleOutcome]), [outcome]);
    const connection = otel.spans().find((s) => s.name === SPAN.connection)!;
    assert.equal(connection.attributes[ATTR.preambleOutcome], outcome);
  });
}

test("a partial message the re-assembly timeout evicts is marked on the connection span: started, then evicted", async () => {
  const otel = inMemoryOtel();
  const app = quietApp()
    .fragmentation(new LenFlag32K(), { reassemblyTimeoutMs: 20 })
    .route(ECHO, (request) => request.payload);
  await using running = await serve(app, { telemetry: { tracerProvider: otel.tracerProvider } });
  await using raw = await RawClient.connect(running.port);
  // A first fragment (final bit clear) of 5 payload bytes, and nothing more: the timer evicts it,
  // which closes the connection (a protocol violation).
  await raw.write(rawFrame(concat(Uint8Array.of(0x00, 0x05), Uint8Array.of(1, 2, 3, 4, 5))));
  await raw.readEnd("the close after the eviction");
  await running.server.shutdown({ timeoutMs: 1_000 });

  const connection = otel.spans().find((s) => s.name === SPAN.connection)!;
  const events = connection.events.filter((e) => e.name.startsWith("wireframe.reassembly"));
  assert.deepEqual(events.map((e) => e.name), [EVENT.reassemblyStarted, EVENT.reassemblyEvicted]);
  assert.equal(connection.attributes[ATTR.closeReason], "protocol-violation");
});
