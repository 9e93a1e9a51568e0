/**
 * An MQTT 3.1.1 broker over TCP, on Wireframe (see `app.ts` for how it maps
 * onto the library, `docs/guides/mqtt.md` for the guide).
 *
 * Run: `deno run --allow-net examples/mqtt/broker.ts --port 1883`
 *  or: `bun examples/mqtt/broker.ts --port 1883`
 *
 * Options: `--hostname` (default 127.0.0.1), `--port` (default 1883; 0 picks
 * a free one; prints `listening on HOST:PORT`), `--deny-subscribe FILTER`
 * and `--deny-publish FILTER` (repeatable), `--max-inflight N` (default 32),
 * `--max-queued N` (default 1000), `--max-packet-size BYTES` (default 1 MiB),
 * `--connect-timeout-ms MS` (default 10000), `--drain-timeout-ms MS`
 * (default 30000), `--max-connections N` (default 100000),
 * `--tls-cert FILE --tls-key FILE` (PEM: MQTT over TLS
 * only, as on port 8883; Deno then needs `--allow-read` too), `--redis
 * redis://HOST:PORT` (cluster mode: join the other brokers on that Redis, see
 * `cluster.ts`; `--heartbeat-ms MS`, default 1000, is the node heartbeat).
 * SIGINT/SIGTERM shut down gracefully and exit 0.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { WireframeServer } from "@wireframe/wireframe";
import { serveUntilSignal, tlsArgs, tlsFromArgs } from "../_cli.ts";
import { mqttApp } from "./app.ts";
import { MqttCluster } from "./cluster.ts";
import { checkTopicFilter } from "./topics.ts";
import { isMain } from "../_main.ts";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`--${name} must be an integer from ${min} to ${max} (got ${text})`);
  }
  return value;
}

function filters(name: string, values: string[]): string[] {
  for (const filter of values) {
    try {
      checkTopicFilter(filter);
    } catch (err) {
      fail(`--${name} ${JSON.stringify(filter)}: ${(err as Error).message}`);
    }
  }
  return values;
}

if (isMain(import.meta)) {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        hostname: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "1883" },
        "deny-subscribe": { type: "string", multiple: true, default: [] },
        "deny-publish": { type: "string", multiple: true, default: [] },
        "max-inflight": { type: "string", default: "32" },
        "max-queued": { type: "string", default: "1000" },
        "max-packet-size": { type: "string", default: "1048576" },
        "connect-timeout-ms": { type: "string", default: "10000" },
        "drain-timeout-ms": { type: "string", default: "30000" },
        "max-connections": { type: "string", default: "100000" },
        redis: { type: "string" },
        "heartbeat-ms": { type: "string", default: "1000" },
        ...tlsArgs,
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  // Cluster mode: join the other brokers on this Redis (see cluster.ts).
  const cluster = values.redis === undefined ? undefined : await MqttCluster.start({
    url: values.redis,
    heartbeatMs: integer("heartbeat-ms", values["heartbeat-ms"], 10, 600_000),
  }).catch((err) => fail(`--redis ${values.redis}: ${(err as Error).message}`));
  const { app, broker } = mqttApp({
    ...cluster?.appOptions(),
    denySubscribe: filters("deny-subscribe", values["deny-subscribe"]),
    denyPublish: filters("deny-publish", values["deny-publish"]),
    maxInflight: integer("max-inflight", values["max-inflight"], 1, 65_535),
    maxQueued: integer("max-queued", values["max-queued"], 0, 10_000_000),
    maxPacketSize: integer("max-packet-size", values["max-packet-size"], 1, 268_435_455),
    connectTimeoutMs: integer("connect-timeout-ms", values["connect-timeout-ms"], 0, 2 ** 31 - 1),
    drainTimeoutMs: integer("drain-timeout-ms", values["drain-timeout-ms"], 0, 2 ** 31 - 1),
  });
  const port = integer("port", values.port, 0, 65_535);
  const tls = tlsFromArgs(values);
  await cluster?.attach(broker);
  // Above the server's default (10,000): a broker holds many idle clients.
  const maxConnections = integer("max-connections", values["max-connections"], 1, 1_000_000);
  const server = new WireframeServer(app, { maxConnections });
  // In cluster mode the connections' wills go out through the bus before it closes.
  const beforeShutdown = cluster &&
    (async () => {
      await server.shutdown({ timeoutMs: 5_000 });
      await cluster.close();
    });
  await serveUntilSignal(server, values.hostname, port, beforeShutdown, tls);
}
