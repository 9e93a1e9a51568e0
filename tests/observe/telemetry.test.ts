/**
 * Tracing and metrics with the OpenTelemetry SDK's in-memory exporters, for
 * one scripted session over TCP: connect, three requests, a streamed
 * response, a push dropped under back-pressure, an oversize frame, a
 * slow-frame timeout, shutdown. Asserts the spans (names, kinds, parents,
 * attributes, events) and that the metrics read the numbers `stats()` does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { WireframeClient } from "../../src/client/client.ts";
import { LenFlag32K } from "../../src/fragment/mod.ts";
import { ServerTelemetry } from "../../src/observe/telemetry.ts";
import { newCounters } from "../../src/observe/stats.ts";
import { ATTR, EVENT, METRIC, METRIC_UNIT, SPAN } from "../../src/observe/telemetry_names.ts";
import { quietApp, RawClient, serve, str, text, u32 } from "../e2e/_helpers.ts";
import { StackContextManager } from "@opentelemetry/sdk-trace";
import { inMemoryOtel } from "./_otel.ts";

const ECHO = 1, STREAM = 2, PUSHY = 3;

test("a scripted session yields connection and request spans, their events, and metrics equal to stats()", async () => {
  const otel = inMemoryOtel();
  const tracer = otel.tracerProvider.getTracer("handler");
  const app = quietApp()
    .timeouts({ slowFrameMs: 200 })
    .outbound({ highWaterMark: 1024 })
    .route(ECHO, (request, ctx) => {
      // A handler's own span, under the request's.
      tracer.startSpan("handler.work", {}, trace.setSpan(context.active(), ctx.span)).end();
      return request.payload;
    })
    .route(STREAM, async function* () {
      yield text("a");
      yield text("b");
      yield text("end");
    })
    .route(PUSHY, async (_request, ctx) => {
      // 2 KiB over a 1 KiB high water mark: the second push is dropped.
      const big = { id: 9, correlationId: undefined, payload: new Uint8Array(2048) };
      assert.equal(ctx.push.tryPush(big), "queued");
      assert.equal(await ctx.push.pushWithPolicy(big, { policy: "drop-if-full" }), "dropped");
      return text("pushed");
    });
  await using running = await serve(app, {
    telemetry: { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider },
  });
  const { server, port } = running;

  const client = await WireframeClient.connect({ port });
  for (const word of ["one", "two", "three"]) {
    assert.equal(str((await client.request(ECHO, text(word))).payload), word);
  }
  const streamed: string[] = [];
  for await (
    const frame of client.stream(STREAM, new Uint8Array(0), {
      isEnd: (f) => str(f.payload) === "end",
    })
  ) streamed.push(str(frame.payload));
  assert.deepEqual(streamed, ["a", "b", "end"]);
  assert.equal(str((await client.request(PUSHY, new Uint8Array(0))).payload), "pushed");

  // An oversize frame closes its own connection.
  await using oversize = await RawClient.connect(port);
  await oversize.write(u32(2 * 1024 * 1024));
  await oversize.readEnd("the oversize connection to close");
  oversize.close();
  // Two bytes of a header, then nothing: the slow-frame timeout closes it.
  await using slow = await RawClient.connect(port);
  await slow.write(Uint8Array.of(0, 0));
  await slow.readEnd("the slow connection to close");
  slow.close();

  // The client answers the server's FIN while the shutdown drains.
  const shutdown = server.shutdown({ timeoutMs: 5_000 });
  await client.close();
  await shutdown;

  // --- spans ---
  const spans = otel.spans();
  const connections = spans.filter((s) => s.name === SPAN.connection);
  assert.equal(connections.length, 3);
  const byReason = new Map(connections.map((s) => [s.attributes[ATTR.closeReason], s]));
  assert.deepEqual([...byReason.keys()].sort(), [
    "protocol-violation",
    "shutdown-drained",
    "timeout",
  ]);
  const main = byReason.get("shutdown-drained")!;
  assert.equal(main.kind, SpanKind.SERVER);
  assert.equal(main.attributes[ATTR.networkTransport], "tcp");
  assert.equal(main.attributes[ATTR.networkPeerAddress], "127.0.0.1");
  assert.equal(main.attributes[ATTR.serverAddress], "127.0.0.1");
  assert.equal(main.attributes[ATTR.serverPort], port);
  assert.equal(typeof main.attributes[ATTR.networkPeerPort], "number");
  assert.equal(typeof main.attributes[ATTR.connectionId], "number");
  assert.notEqual(main.status.code, SpanStatusCode.ERROR);
  const mainEvents = main.events.map((e) => e.name);
  assert.ok(mainEvents.includes(EVENT.backPressureApplied), mainEvents.join());
  assert.ok(mainEvents.includes(EVENT.backPressureReleased), mainEvents.join());

  const requests = spans.filter((s) => s.name === SPAN.request);
  assert.equal(requests.length, 5);
  for (const request of requests) {
    assert.equal(request.kind, SpanKind.SERVER);
    assert.equal(request.parentSpanContext?.spanId, main.spanContext().spanId);
    assert.equal(request.spanContext().traceId, main.spanContext().traceId);
    assert.equal(request.attributes[ATTR.requestOutcome], "ok");
    assert.equal(typeof request.attributes[ATTR.correlationId], "string");
    assert.ok(request.events.some((e) => e.name === EVENT.commandEnd));
  }
  const echoes = requests.filter((s) => s.attributes[ATTR.messageId] === ECHO);
  assert.equal(echoes.length, 3);
  for (const echo of echoes) {
    assert.equal(echo.attributes[ATTR.responseKind], "single");
    assert.equal(echo.attributes[ATTR.responseFrames], 1);
  }
  assert.deepEqual(echoes.map((s) => s.attributes[ATTR.responseBytes]), [3, 3, 5]);
  const stream = requests.find((s) => s.attributes[ATTR.messageId] === STREAM)!;
  assert.equal(stream.attributes[ATTR.responseKind], "stream");
  assert.equal(stream.attributes[ATTR.responseFrames], 3);
  const pushy = requests.find((s) => s.attributes[ATTR.messageId] === PUSHY)!;
  const dropped = pushy.events.find((e) => e.name === EVENT.pushDropped);
  assert.equal(dropped?.attributes?.[ATTR.pushPriority], "high");

  const children = spans.filter((s) => s.name === "handler.work");
  assert.equal(children.length, 3);
  const echoIds = new Set(echoes.map((s) => s.spanContext().spanId));
  for (const child of children) assert.ok(echoIds.has(child.parentSpanContext!.spanId));

  const violation = byReason.get("protocol-violation")!;
  assert.equal(violation.status.code, SpanStatusCode.ERROR);
  assert.equal(violation.attributes[ATTR.errorCode], "ERR_FRAME_TOO_LARGE");
  const rejected = violation.events.find((e) => e.name === EVENT.frameRejected);
  assert.equal(rejected?.attributes?.[ATTR.rejectReason], "too-large");

  const timedOut = byReason.get("timeout")!;
  const fired = timedOut.events.find((e) => e.name === EVENT.timeoutFired);
  assert.equal(fired?.attributes?.[ATTR.timeoutReason], "slow-frame");
  assert.equal(fired?.attributes?.[ATTR.timeoutMs], 200);

  // --- metrics: the numbers stats() has ---
  const metrics = await otel.collect();
  const stats = server.stats();
  const same = (name: string, value: number, match?: Record<string, unknown>) =>
    assert.equal(metrics.value(name, match), value, name);
  same(METRIC.connectionsOpened, stats.connectionsAccepted);
  assert.equal(stats.connectionsAccepted, 3);
  same(METRIC.connectionsActive, 0);
  same(METRIC.connectionsClosed, 3);
  for (const reason of ["protocol-violation", "shutdown-drained", "timeout"] as const) {
    same(METRIC.connectionsClosed, 1, { [ATTR.closeReason]: reason });
    assert.equal(stats.closeReasons[reason], 1);
  }
  same(METRIC.requests, stats.requests);
  assert.equal(stats.requests, 5);
  same(METRIC.requestDuration, 3, { [ATTR.messageId]: ECHO, [ATTR.requestOutcome]: "ok" });
  same(METRIC.requestDuration, 5);
  same(METRIC.connectionDuration, 3);
  same(METRIC.bytesReceived, stats.bytesReceived);
  same(METRIC.bytesSent, stats.bytesSent);
  same(METRIC.framesReceived, stats.framesReceived);
  assert.equal(stats.framesReceived, 5);
  same(METRIC.framesSent, stats.framesSent);
  assert.equal(stats.framesSent, 3 + 3 + 1 + 1); // echoes, stream, PUSHY's answer and its push
  same(METRIC.framesRejected, 1, { [ATTR.rejectReason]: "too-large" });
  assert.equal(stats.framesTooLarge, 1);
  same(METRIC.pushes, 1, { [ATTR.pushOutcome]: "dropped" });
  same(METRIC.pushes, 1, { [ATTR.pushOutcome]: "queued" });
  assert.deepEqual(stats.pushes, { queued: 1, dropped: 1, "rate-limited": 0 });
  same(METRIC.pushQueueDepth, 0);
  same(METRIC.errors, stats.timeouts, { [ATTR.errorType]: "timeouts" });
  same(METRIC.errors, stats.protocolViolations, { [ATTR.errorType]: "protocolViolations" });
  assert.equal(metrics.unit(METRIC.requestDuration), "s");
  assert.equal(metrics.unit(METRIC.bytesSent), "By");
  for (const [key, name] of Object.entries(METRIC)) {
    assert.equal(metrics.unit(name), METRIC_UNIT[key as keyof typeof METRIC], name);
  }
});

test("without an SDK nothing records: the connection span is a no-op and no request is timed", () => {
  const telemetry = new ServerTelemetry(newCounters());
  assert.equal(telemetry.metricsLive, false);
  const connection = telemetry.connection({
    connectionId: 1,
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 2 },
  });
  assert.equal(connection.recording, false);
  assert.equal(connection.requestStarted(1, 1n), undefined);
  connection.end();
});

test("the client's request() makes a CLIENT span under the active span; a failed request's span is an error", async () => {
  const otel = inMemoryOtel();
  const app = quietApp()
    .route(ECHO, (request) => request.payload)
    .route(PUSHY, () => new Promise<Uint8Array>(() => {})); // never answers
  await using running = await serve(app);
  const client = await WireframeClient.connect({
    port: running.port,
    telemetry: { tracerProvider: otel.tracerProvider },
    closeTimeoutMs: 100, // the never-answered request is not waited for
  });
  const manager = new StackContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    const caller = otel.tracerProvider.getTracer("caller").startSpan("caller");
    const answered = context.with(
      trace.setSpan(context.active(), caller),
      () => client.request(ECHO, text("x")),
    );
    assert.equal(str((await answered).payload), "x");
    caller.end();
    const aborted = new AbortController();
    const failing = client.request(PUSHY, new Uint8Array(0), { signal: aborted.signal });
    aborted.abort(new Error("gave up"));
    await assert.rejects(failing, /gave up/);
    const spans = otel.spans().filter((s) => s.name === SPAN.clientRequest);
    assert.equal(spans.length, 2);
    const [ok, failed] = spans;
    assert.equal(ok!.kind, SpanKind.CLIENT);
    assert.equal(ok!.parentSpanContext?.spanId, caller.spanContext().spanId);
    assert.equal(ok!.attributes[ATTR.messageId], ECHO);
    assert.equal(ok!.attributes[ATTR.correlationId], "1");
    assert.equal(ok!.attributes[ATTR.serverPort], running.port);
    assert.notEqual(ok!.status.code, SpanStatusCode.ERROR);
    assert.equal(failed!.status.code, SpanStatusCode.ERROR);
    assert.equal(failed!.parentSpanContext, undefined);
  } finally {
    context.disable();
    await client.close();
  }
});

test("a handler's conversation is marked on its request span: started, then ended", async () => {
  const otel = inMemoryOtel();
  const CONVERSE = 4;
  const app = quietApp().route(CONVERSE, async (_request, ctx) => {
    const heard: string[] = [];
    for await (const frame of ctx.receive()) {
      if (str(frame.payload) === "end") break;
      heard.push(str(frame.payload));
    }
    return text(heard.join(","));
  });
  await using running = await serve(app, { telemetry: { tracerProvider: otel.tracerProvider } });
  const client = await WireframeClient.connect({ port: running.port });
  const answer = client.request(CONVERSE, new Uint8Array(0));
  await client.send(7, text("a"));
  await client.send(7, text("end"));
  assert.equal(str((await answer).payload), "a");
  await client.close();
  await running.server.shutdown({ timeoutMs: 1_000 });
  const request = otel.spans().find((s) => s.name === SPAN.request)!;
  const names = request.events.map((e) => e.name);
  assert.deepEqual(
    names.filter((n) => n.startsWith("wireframe.conversation")),
    [EVENT.conversationStarted, EVENT.conversationEnded],
  );
  assert.ok(names.indexOf(EVENT.conversationEnded) < names.indexOf(EVENT.commandEnd));
});

test("a message re-assembled from fragments is marked on the connection span: started, then completed", async () => {
  const otel = inMemoryOtel();
  const strategy = () => new LenFlag32K({ maxFragmentPayload: 40 });
  const app = quietApp().fragmentation(strategy()).route(ECHO, (request) => request.payload);
  await using running = await serve(app, { telemetry: { tracerProvider: otel.tracerProvider } });
  const client = await WireframeClient.connect({
    port: running.port,
    fragmentation: { strategy: strategy() },
  });
  const payload = new Uint8Array(100).fill(7);
  assert.deepEqual((await client.request(ECHO, payload)).payload, payload);
  await client.close();
  await running.server.shutdown({ timeoutMs: 1_000 });
  const connection = otel.spans().find((s) => s.name === SPAN.connection)!;
  const events = connection.events.filter((e) => e.name.startsWith("wireframe.reassembly"));
  assert.deepEqual(events.map((e) => e.name), [
    EVENT.reassemblyStarted,
    EVENT.reassemblyCompleted,
  ]);
  assert.ok((events[1]!.attributes?.[ATTR.messageBytes] as number) > payload.length);
  assert.equal(running.server.stats().framesReceived, 1);
});
