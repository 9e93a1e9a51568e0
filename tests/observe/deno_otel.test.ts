/**
 * A real exporter: the echo server under Deno's built-in OpenTelemetry
 * (`OTEL_DENO=true`), exporting OTLP/HTTP (JSON) to a small OTLP receiver
 * this test runs on loopback. Asserts that the connection and request spans
 * arrive with their parent links and attributes, and that the metrics do.
 * Deno only (Bun has no built-in OpenTelemetry; the SDK test covers it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WireframeClient } from "../../src/client/client.ts";
import { ATTR, METRIC, SPAN } from "../../src/observe/telemetry_names.ts";
import { deadline, readU32, str, text, u32 } from "../e2e/_helpers.ts";

const isDeno = "Deno" in globalThis;
const root = fileURLToPath(new URL("../..", import.meta.url));

/** OTLP JSON, as much of it as the test reads. */
interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
}
interface OtlpPoint {
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  attributes?: OtlpAttribute[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: OtlpPoint[] };
  histogram?: { dataPoints: OtlpPoint[] };
}

/** A loopback OTLP/HTTP receiver that keeps what it is sent and wakes waiters. */
function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  const metrics: OtlpMetric[][] = []; // one array per export
  let wake: () => void = () => {};
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(new TextDecoder().decode(Buffer.concat(chunks)) || "{}");
      if (req.url === "/v1/traces") {
        for (const resource of body.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
        }
      } else if (req.url === "/v1/metrics") {
        const batch: OtlpMetric[] = [];
        for (const resource of body.resourceMetrics ?? []) {
          for (const scope of resource.scopeMetrics ?? []) batch.push(...(scope.metrics ?? []));
        }
        metrics.push(batch);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      wake();
    });
  });
  return {
    spans,
    metrics,
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))
      ),
    /** Resolves once `ready()` holds after some export arrived. */
    until: (ready: () => boolean, what: string) =>
      deadline(
        (async () => {
          while (!ready()) await new Promise<void>((resolve) => (wake = resolve));
        })(),
        `${what} (got spans: ${spans.map((s) => s.name).join(", ") || "none"})`,
        20_000,
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const attr = (attributes: OtlpAttribute[] | undefined, key: string): unknown => {
  const value = attributes?.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue;
};

/** The latest exported value of a sum metric (summed over its points matching `match`). */
function latestSum(
  metrics: OtlpMetric[][],
  name: string,
  match: Record<string, unknown> = {},
): number | undefined {
  for (let i = metrics.length - 1; i >= 0; i--) {
    const metric = metrics[i]!.find((m) => m.name === name);
    const points = metric?.sum?.dataPoints ?? metric?.histogram?.dataPoints;
    if (points === undefined) continue;
    let total = 0;
    for (const point of points) {
      if (!Object.entries(match).every(([k, v]) => attr(point.attributes, k) === v)) continue;
      total += Number(point.asInt ?? point.asDouble ?? point.count ?? 0);
    }
    return total;
  }
  return undefined;
}

test(
  "Deno OTEL_DENO=true: the echo server's connection and request spans and metrics reach an OTLP receiver",
  {
    skip: !isDeno,
  },
  async () => {
    const receiver = otlpReceiver();
    const otlpPort = await receiver.listen();
    const child = spawn(
      `${root}node_modules/.bin/deno`,
      ["run", "-A", "examples/echo_server.ts", "--port", "0"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"],
        env: {
          ...process.env,
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
          OTEL_METRIC_EXPORT_INTERVAL: "200",
          OTEL_BSP_SCHEDULE_DELAY: "100",
          OTEL_SERVICE_NAME: "wireframe-echo-test",
        },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const port = await deadline(
        new Promise<number>((resolve) => {
          let out = "";
          child.stdout!.on("data", (chunk: Uint8Array) => {
            out += new TextDecoder().decode(chunk);
            const match = out.match(/listening on [^\s:]+:(\d+)/);
            if (match) resolve(Number(match[1]));
          });
        }),
        "the echo server to listen",
      );
      const client = await WireframeClient.connect({ port });
      for (const word of ["one", "two", "three"]) {
        assert.equal(str((await client.request(1, text(word))).payload), word);
      }
      const counted: number[] = [];
      for await (
        const frame of client.stream(2, u32(3), { isEnd: (f) => readU32(f.payload) === 2 })
      ) counted.push(readU32(frame.payload));
      assert.deepEqual(counted, [0, 1, 2]);
      await client.close();

      await receiver.until(
        () => receiver.spans.some((s) => s.name === SPAN.connection),
        "the connection span to be exported",
      );
      const connection = receiver.spans.find((s) => s.name === SPAN.connection)!;
      assert.equal(connection.kind, 2); // SPAN_KIND_SERVER
      assert.equal(attr(connection.attributes, ATTR.networkTransport), "tcp");
      assert.equal(attr(connection.attributes, ATTR.networkPeerAddress), "127.0.0.1");
      assert.equal(attr(connection.attributes, ATTR.serverPort), port);
      assert.equal(attr(connection.attributes, ATTR.closeReason), "peer-closed");
      const requests = receiver.spans.filter((s) => s.name === SPAN.request);
      assert.equal(requests.length, 4);
      for (const request of requests) {
        assert.equal(request.kind, 2);
        assert.equal(request.traceId, connection.traceId);
        assert.equal(request.parentSpanId, connection.spanId);
        assert.equal(attr(request.attributes, ATTR.requestOutcome), "ok");
      }
      const stream = requests.find((s) => attr(s.attributes, ATTR.messageId) === 2)!;
      assert.equal(attr(stream.attributes, ATTR.responseKind), "stream");
      assert.equal(attr(stream.attributes, ATTR.responseFrames), 3);

      await receiver.until(
        () =>
          latestSum(receiver.metrics, METRIC.requests) === 4 &&
          latestSum(receiver.metrics, METRIC.connectionsClosed) === 1,
        "the request and connection metrics to be exported",
      );
      assert.equal(
        latestSum(receiver.metrics, METRIC.requestDuration, {
          [ATTR.messageId]: 1,
          [ATTR.requestOutcome]: "ok",
        }),
        3,
      );
      assert.equal(
        latestSum(receiver.metrics, METRIC.connectionsClosed, {
          [ATTR.closeReason]: "peer-closed",
        }),
        1,
      );
      assert.equal(latestSum(receiver.metrics, METRIC.framesReceived), 4);
      assert.equal(latestSum(receiver.metrics, METRIC.framesSent), 6);
    } finally {
      child.kill("SIGTERM");
      await exited;
      await receiver.close();
    }
  },
);
