/**
 * Cross-node fan-out: 1 publisher on node A, N subscribers spread over the
 * nodes, every broadcast reaching every subscriber (examples/cluster/push_node.ts
 * nodes on one redis-server). Compares 1 node (single-node figure: the bus
 * is connected but every subscriber is local) with 2 nodes on separate
 * ports, and with 2 workers sharing one port (reusePort, the kernel
 * spreading the subscribers).
 *
 * Run: `npx deno run -A bench/cluster/fanout.ts [--subscribers 1000 --messages 200 --window 8]`
 *  or: `npx bun bench/cluster/fanout.ts ...` (the nodes run on the same runtime).
 * Prints one line per setup: deliveries/s and latency percentiles (publish
 * request sent → push received; the subscribers live in this process, so
 * one clock).
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { parseArgs } from "node:util";
import { WireframeClient } from "../../src/client/client.ts";
import { startRedis } from "../../tests/cluster/_redis.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    subscribers: { type: "string", default: "1000" },
    messages: { type: "string", default: "200" },
    window: { type: "string", default: "8" },
    setups: { type: "string", default: "1-node,2-nodes,2-workers-one-port" },
  },
});
const SUBSCRIBERS = Number(values.subscribers);
const MESSAGES = Number(values.messages);
const WINDOW = Number(values.window);
const deno = "Deno" in globalThis;

interface Node {
  port: number;
  stop(): Promise<void>;
}

function startNode(redisUrl: string, port: number, reusePort: boolean): Promise<Node> {
  const args = [
    "examples/cluster/push_node.ts",
    "--redis",
    redisUrl,
    "--port",
    String(port),
    ...(reusePort ? ["--reuse-port"] : []),
  ];
  const argv = deno ? ["run", "-A", "--unstable-net", ...args] : args;
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /listening on [^:]+:(\d+)/.exec(out);
      if (match) {
        resolve({
          port: Number(match[1]),
          stop: async () => {
            process.kill(child.pid!, "SIGTERM");
            await exited;
          },
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`node exited ${code}: ${out}`)));
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function measure(setup: string, redisUrl: string): Promise<void> {
  const nodes: Node[] = [];
  if (setup === "1-node") nodes.push(await startNode(redisUrl, 0, false));
  else if (setup === "2-nodes") {
    nodes.push(await startNode(redisUrl, 0, false), await startNode(redisUrl, 0, false));
  } else {
    const port = await freePort();
    nodes.push(await startNode(redisUrl, port, true), await startNode(redisUrl, port, true));
  }
  const ports = nodes.map((n) => n.port);
  const latencies: number[] = [];
  let delivered = 0;
  let allDelivered!: () => void;
  const done = new Promise<void>((resolve) => (allDelivered = resolve));
  const total = SUBSCRIBERS * MESSAGES;
  const clients: WireframeClient[] = [];
  const perNode = new Map<string, number>();
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const client = await WireframeClient.connect({ port: ports[i % ports.length]! });
    const id = new TextDecoder().decode((await client.request(1, new Uint8Array(0))).payload);
    const node = id.split(":")[0]!;
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
    clients.push(client);
    (async () => {
      for await (const push of client.pushes()) {
        const view = new DataView(push.payload.buffer, push.payload.byteOffset);
        latencies.push(performance.now() - view.getFloat64(0));
        if (++delivered === total) allDelivered();
      }
    })().catch(() => {});
  }
  const publisher = await WireframeClient.connect({ port: ports[0]! });
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < MESSAGES) {
      next++;
      const payload = new Uint8Array(16);
      new DataView(payload.buffer).setFloat64(0, performance.now());
      await publisher.request(2, payload);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  const timeout = setTimeout(() => allDelivered(), 60_000);
  await done;
  clearTimeout(timeout);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const runtime = deno ? "deno" : "bun";
  console.log(
    `${runtime} ${setup}: subscribers per node ${[...perNode.values()].join("+")}, ` +
      `${delivered}/${total} delivered in ${elapsed.toFixed(2)} s = ` +
      `${Math.round(delivered / elapsed).toLocaleString("en")} deliveries/s; latency ms p50 ` +
      `${percentile(latencies, 0.5).toFixed(1)} p99 ${percentile(latencies, 0.99).toFixed(1)} ` +
      `max ${latencies.at(-1)!.toFixed(1)}`,
  );
  await publisher.close();
  await Promise.all(clients.map((c) => c.close()));
  for (const node of nodes) await node.stop();
}

await using redis = await startRedis();
for (const setup of values.setups.split(",")) await measure(setup, redis.url);
