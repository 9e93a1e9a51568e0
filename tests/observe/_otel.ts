/** In-memory OpenTelemetry SDK providers for tests: finished spans and collected metrics. */
import type { HrTime } from "@opentelemetry/api";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

/** A reader that collects only when asked. */
class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** A tracer provider and a meter provider that keep everything in memory. */
export function inMemoryOtel(): {
  tracerProvider: TracerProvider;
  meterProvider: MeterProvider;
  spans: () => ReadableSpan[];
  collect: () => Promise<Metrics>;
} {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    collect: async () => {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new Metrics(resourceMetrics);
    },
  };
}

/** A metrics snapshot, looked up by name and attributes. */
export class Metrics {
  readonly #points = new Map<string, { unit: string; points: DataPoint<unknown>[] }>();

  constructor(resource: ResourceMetrics) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        this.#points.set(metric.descriptor.name, {
          unit: metric.descriptor.unit,
          points: metric.dataPoints as DataPoint<unknown>[],
        });
      }
    }
  }

  /** Every metric name collected. */
  get names(): string[] {
    return [...this.#points.keys()];
  }

  /** The unit of `name`. */
  unit(name: string): string | undefined {
    return this.#points.get(name)?.unit;
  }

  /** The sum (or histogram count) of `name`'s points whose attributes include `match`. */
  value(name: string, match: Record<string, unknown> = {}): number {
    const metric = this.#points.get(name);
    if (metric === undefined) throw new Error(`no metric ${name}; got ${this.names.join(", ")}`);
    let total = 0;
    for (const point of metric.points) {
      if (!Object.entries(match).every(([k, v]) => point.attributes[k] === v)) continue;
      const value = point.value;
      total += typeof value === "number" ? value : (value as Histogram).count;
    }
    return total;
  }
}

/** Milliseconds of an HrTime. */
export function ms(time: HrTime): number {
  return time[0] * 1e3 + time[1] / 1e6;
}
