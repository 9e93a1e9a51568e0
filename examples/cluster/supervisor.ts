/**
 * Every core of a machine on one port: starts N `push_node.ts` workers that
 * all listen on the same port with `reusePort` (the kernel spreads
 * connections over them), restarts one that dies, and on SIGTERM/SIGINT
 * stops them all gracefully (SIGTERM, then SIGKILL after 10 s) and exits 0.
 * The workers reach each other, and other machines, through Redis.
 *
 * Run: `deno run -A examples/cluster/supervisor.ts --workers 2 --port 7000 --redis redis://127.0.0.1:6379`
 *  or: `bun examples/cluster/supervisor.ts --workers 2 --port 7000 --redis redis://127.0.0.1:6379`
 *  (or `node`). Options: `--workers` (default: the number of cores), `--hostname`
 * (127.0.0.1), `--port` (0: a free one, picked once for all workers),
 * `--redis`, `--heartbeat-ms`. Prints `supervising N workers on HOST:PORT`,
 * then `worker I started pid P` / `worker I exited code C signal S` lines,
 * and each worker's own lines.
 *
 * @module
 */
import { createServer } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Supervisor } from "@wireframe/wireframe/cluster";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    workers: { type: "string", default: String(navigator.hardwareConcurrency ?? 1) },
    hostname: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
    "heartbeat-ms": { type: "string", default: "1000" },
  },
});

/** Port 0: ask the system for a free one, once, so every worker binds the same. */
async function pickPort(hostname: string, port: number): Promise<number> {
  if (port !== 0) return port;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen({ host: hostname, port: 0 }, resolve));
  const picked = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return picked;
}

const port = await pickPort(values.hostname, Number(values.port));
const worker = fileURLToPath(new URL("./push_node.ts", import.meta.url));
const workerArgs = [
  worker,
  "--reuse-port",
  "--hostname",
  values.hostname,
  "--port",
  String(port),
  "--redis",
  values.redis,
  "--heartbeat-ms",
  values["heartbeat-ms"],
];
// The same runtime as this process; Deno's reusePort needs --unstable-net.
const args = "Deno" in globalThis ? ["run", "-A", "--unstable-net", ...workerArgs] : workerArgs;
const say = (line: string) => process.stdout.write(`${line}\n`);
const workers = Number(values.workers);
say(`supervising ${workers} workers on ${values.hostname}:${port}`);
const supervisor = Supervisor.start({
  command: process.execPath,
  args,
  workers,
  logger: {
    debug() {},
    info(message, fields) {
      if (message.endsWith("worker started")) {
        say(`worker ${fields?.index} started pid ${fields?.pid}`);
      }
    },
    warn() {},
    error: (message, fields) => process.stderr.write(`${message} ${String(fields?.error)}\n`),
  },
});
supervisor.onExit((exit) =>
  say(`worker ${exit.index} exited code ${exit.code} signal ${exit.signal}`)
);
supervisor.handleSignals();
