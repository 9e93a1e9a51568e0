/**
 * Logging next to tracing: records carry the trace and span ids of the
 * request or connection they are about; a level option; the default logger
 * prints nothing on the hot path.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeClient } from "../../src/client/client.ts";
import { ConfigError } from "../../src/error.ts";
import { withLevel } from "../../src/observe/logger.ts";
import { SPAN } from "../../src/observe/telemetry_names.ts";
import { captureLogger, frame, RawClient, serve, text, waitFor } from "../e2e/_helpers.ts";
import { inMemoryOtel } from "./_otel.ts";

test("a request's error log carries its span's trace_id and span_id; a record with no traced connection carries none", async () => {
  const otel = inMemoryOtel();
  const { logger, records } = captureLogger();
  const app = new WireframeApp().logger(logger, { throttleMs: 0 })
    .route(1, () => {
      throw new Error("boom");
    })
    .route(2, (request) => request.payload);
  await using running = await serve(app, { telemetry: { tracerProvider: otel.tracerProvider } });
  await using raw = await RawClient.connect(running.port);
  await raw.write(frame(1, 1n));
  await raw.write(frame(2, 2n, text("ok")));
  assert.equal((await raw.readFrame()).correlationId, 2n);
  await waitFor(() => otel.spans().some((s) => s.name === SPAN.request), "a request span");
  const failed = records.find((r) => r.message === "request failed")!;
  const span = otel.spans().find((s) => s.name === SPAN.request && s.status.code === 2)!;
  assert.equal(failed.fields?.trace_id, span.spanContext().traceId);
  assert.equal(failed.fields?.span_id, span.spanContext().spanId);
  assert.equal(failed.fields?.trace_flags, "01");
  assert.equal(failed.fields?.connectionId, 1);

  // Without a tracer provider nothing records, and no ids are added.
  const untraced = captureLogger();
  const plain = new WireframeApp().logger(untraced.logger, { throttleMs: 0 }).route(1, () => {
    throw new Error("boom");
  });
  await using other = await serve(plain);
  await using raw2 = await RawClient.connect(other.port);
  await raw2.write(frame(1, 1n));
  await waitFor(() => untraced.records.some((r) => r.message === "request failed"), "the log");
  const record = untraced.records.find((r) => r.message === "request failed")!;
  assert.equal(record.fields?.trace_id, undefined);
  assert.equal(record.fields?.span_id, undefined);
});

test("app.logger(logger, { level }) drops the records below the level; a bad level is a ConfigError", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp().logger(logger, { level: "warn", throttleMs: 0 })
    .route(2, (request) => request.payload);
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  await raw.write(frame(9, 1n)); // no route: a debug record
  await raw.write(frame(2, 2n, text("ok")));
  assert.equal((await raw.readFrame()).correlationId, 2n);
  await waitFor(() => running.server.stats().unroutedFrames === 1, "the unrouted frame counted");
  assert.deepEqual(records.filter((r) => r.level === "debug" || r.level === "info"), []);
  assert.throws(
    () => new WireframeApp().logger(logger, { level: "loud" as never }),
    ConfigError,
  );
  const kept: string[] = [];
  const filtered = withLevel({
    debug: (m) => void kept.push(m),
    info: (m) => void kept.push(m),
    warn: (m) => void kept.push(m),
    error: (m) => void kept.push(m),
  }, "error");
  filtered.warn("no");
  filtered.error("yes");
  assert.deepEqual(kept, ["yes"]);
});

test("the default logger prints nothing for a session of requests, pushes and a peer's close", async () => {
  const printed: unknown[] = [];
  const saved = { ...console };
  for (const level of ["debug", "info", "warn", "error", "log"] as const) {
    console[level] = (...args: unknown[]) => void printed.push(args);
  }
  try {
    const app = new WireframeApp()
      .onConnectionSetup((ctx) => void ctx.push.tryPush({ id: 5, payload: text("hi") }))
      .route(1, (request) => request.payload);
    await using running = await serve(app);
    const client = await WireframeClient.connect({ port: running.port });
    for (let i = 0; i < 100; i++) await client.request(1, text(`r${i}`));
    await client.close();
    await waitFor(() => running.server.stats().connectionsClosed === 1, "the close");
  } finally {
    Object.assign(console, saved);
  }
  assert.deepEqual(printed, []);
});
