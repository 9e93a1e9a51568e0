// examples/echo_server.ts with the OpenTelemetry SDK registered globally and
// exporters that discard what they are given: the cost of recording every
// connection and request span (sampled always on), their events and the
// metrics, without the cost of a network exporter.
// Usage: deno run -A bench/echo/otel_server.ts --port 0 (or bun)
import { metrics, trace } from "@opentelemetry/api";
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { WireframeServer } from "../../mod.ts";
import { runExampleServer } from "../../examples/_cli.ts";
import { echoApp } from "../../examples/echo_server.ts";

const discardSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 /* ExportResultCode.SUCCESS */ }),
  shutdown: () => Promise.resolve(),
};
const discardMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 /* ExportResultCode.SUCCESS */ }),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};
trace.setGlobalTracerProvider(
  new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: discardSpans })] }),
);
metrics.setGlobalMeterProvider(
  new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 1_000 }),
    ],
  }),
);

await runExampleServer(7882, () => new WireframeServer(echoApp()));
