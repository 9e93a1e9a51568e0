// Micro-benchmarks of what tracing and metrics add per request and per
// connection: `deno bench bench/telemetry_bench.ts`.
//
// "no SDK" is @opentelemetry/api with nothing registered (the default): a
// request costs one call that returns undefined, a connection one
// non-recording span. "SDK" records every span (always-on sampler) into a
// processor that drops it, and records the duration histograms.
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { type SpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { newCounters } from "../src/observe/stats.ts";
import { ServerTelemetry } from "../src/observe/telemetry.ts";

const addr = { transport: "tcp", hostname: "127.0.0.1", port: 7878 };
const init = { connectionId: 1, remoteAddr: { ...addr, port: 50_000 }, localAddr: addr };
const drop: SpanProcessor = {
  onStart: () => {},
  onEnd: () => {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

const off = new ServerTelemetry(newCounters());
const on = new ServerTelemetry(newCounters(), {
  tracerProvider: new TracerProvider({ spanProcessors: [drop] }),
  meterProvider: new MeterProvider(),
});
// Metrics on, tracing sampled out (what a TraceIdRatio sampler does to most connections).
const metricsOnly = new ServerTelemetry(newCounters(), { meterProvider: new MeterProvider() });
const offConnection = off.connection(init);
const metricsConnection = metricsOnly.connection(init);
const onConnection = on.connection(init);

Deno.bench("request, no SDK (requestStarted returns undefined)", { group: "request" }, () => {
  const trace = offConnection.requestStarted(1, 1n);
  trace?.response("single");
  trace?.frame(16);
  trace?.end();
});

Deno.bench("request, metrics only (duration histogram, no span)", { group: "request" }, () => {
  const trace = metricsConnection.requestStarted(1, 1n)!;
  trace.response("single");
  trace.end();
});

Deno.bench("request, SDK (span, attributes, event, duration)", { group: "request" }, () => {
  const trace = onConnection.requestStarted(1, 1n)!;
  trace.response("single");
  trace.frame(16);
  trace.commandEnd();
  trace.end();
});

Deno.bench("connection open and close, no SDK", { group: "connection" }, () => {
  off.connection(init).end();
});

Deno.bench("connection open and close, SDK", { group: "connection" }, () => {
  on.connection(init).end();
});
