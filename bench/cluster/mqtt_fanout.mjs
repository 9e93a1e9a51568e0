#!/usr/bin/env node
// Cross-node MQTT fan-out (issue 18): 1 publisher on broker A, 1,000 QoS 0 subscribers spread
// round-robin over the brokers, 16 B messages (bench/mqtt/load.mjs's fanout scenario, closed loop
// on the last subscriber, which is on the last broker). For each broker kind: one broker alone
// (the single-node figure), then two brokers joined through one local redis-server: the
// Wireframe broker's cluster mode (examples/mqtt/broker.ts --redis) on Deno and on Bun, and
// aedes 1.2.0 with mqemitter-redis 7.2.1 (bench/cluster/aedes_redis_broker.mjs) on Node.
//
// Usage: node bench/cluster/mqtt_fanout.mjs [--seconds 5] [--subscribers 1000] [--window 16]
//          [--brokers deno,bun,aedes]
// No CPU pinning: two brokers, Redis and the load generator share the 2 cores, as they would.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    subscribers: { type: "string", default: "1000" },
    window: { type: "string", default: "16" },
    brokers: { type: "string", default: "deno,bun,aedes" },
  },
});
const bin = (name) => join(root, "node_modules", ".bin", name);
const kinds = {
  deno: {
    label: "wireframe (Deno)",
    cmd: (
      redis,
    ) => [bin("deno"), [
      "run",
      "-A",
      "examples/mqtt/broker.ts",
      ...(redis ? ["--redis", redis] : []),
    ]],
  },
  bun: {
    label: "wireframe (Bun)",
    cmd: (redis) => [bin("bun"), ["examples/mqtt/broker.ts", ...(redis ? ["--redis", redis] : [])]],
  },
  aedes: {
    label: "aedes (Node; + mqemitter-redis on Redis)",
    cmd: (redis) =>
      redis
        ? [bin("node"), ["bench/cluster/aedes_redis_broker.mjs", "--redis", redis]]
        : [bin("node"), ["bench/mqtt/aedes_broker.mjs"]],
  },
};

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(cmd, args, ready) {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) {
        resolve({
          child,
          match,
          out: () => out,
          stop: async () => (child.kill("SIGTERM"), await exited),
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)));
  });
}

async function fanout(publisherPort, subPorts) {
  const load = await start(bin("node"), [
    "bench/mqtt/load.mjs",
    "--port",
    String(publisherPort),
    "--sub-ports",
    subPorts.join(","),
    "--scenario",
    "fanout",
    "--seconds",
    values.seconds,
    "--subscribers",
    values.subscribers,
    "--window",
    values.window,
  ], /^\{.*\}$/m);
  await load.stop();
  return JSON.parse(load.match[0]);
}

const port = await freePort();
const redis = await start("redis-server", [
  "--port",
  String(port),
  "--bind",
  "127.0.0.1",
  "--save",
  "",
  "--appendonly",
  "no",
  "--dir",
  mkdtempSync(join(tmpdir(), "wf-bench-redis-")),
], /Ready to accept connections/);
const redisUrl = `redis://127.0.0.1:${port}`;
const rows = [];
for (const name of values.brokers.split(",")) {
  const kind = kinds[name];
  for (const nodes of [1, 2]) {
    const brokers = [];
    for (let i = 0; i < nodes; i++) {
      const [cmd, args] = kind.cmd(nodes > 1 ? redisUrl : undefined);
      brokers.push(await start(cmd, [...args, "--port", "0"], /listening on [^:]+:(\d+)/));
    }
    const ports = brokers.map((b) => Number(b.match[1]));
    const result = await fanout(ports[0], ports);
    for (const b of brokers) await b.stop();
    const row = `| ${kind.label} | ${nodes === 1 ? "1 broker" : "2 brokers on Redis"} | ` +
      `${result.perSecond.toLocaleString("en")} | ${(result.p50Us / 1000).toFixed(1)} | ` +
      `${(result.p99Us / 1000).toFixed(1)} |`;
    rows.push(row);
    console.error(row);
  }
}
await redis.stop();
console.log("| broker | setup | deliveries/s | p50 ms | p99 ms |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
