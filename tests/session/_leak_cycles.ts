/**
 * Run by registry_leak.test.ts in a child process that can force garbage
 * collection (Deno: `--v8-flags=--expose-gc`; Bun: `Bun.gc(true)`).
 *
 * Connects and disconnects `total` clients, one after another, to a server
 * over the memory transport whose app keeps a SessionRegistry, and samples
 * the heap (after a forced GC) at each checkpoint. Prints one JSON line:
 * `{ samples: [{ cycles, heapUsed, registrySize, active }], weakRefCleared }`.
 *
 * Usage: <runtime> tests/session/_leak_cycles.ts <total> <checkpoint>...
 */
import { WireframeApp } from "../../src/app/app.ts";
import { defaultSerializer } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { silentLogger } from "../../src/observe/logger.ts";
import { PushHandle, type PushTarget } from "../../src/push/push_handle.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { SessionRegistry } from "../../src/session/registry.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import process from "node:process";

const [total, ...checkpoints] = process.argv.slice(2).map(Number);
if (!total || checkpoints.some((n) => !(n > 0 && n <= total))) {
  throw new Error("usage: _leak_cycles.ts <total> <checkpoint>...");
}

const runtime = globalThis as {
  gc?: () => void;
  Bun?: { gc(force: boolean): void };
};

/** Collect garbage for real, several rounds, so FinalizationRegistry callbacks can run too. */
async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    if (runtime.Bun) runtime.Bun.gc(true);
    else if (runtime.gc) runtime.gc();
    else throw new Error("no forced GC: run with --v8-flags=--expose-gc or on Bun");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const registry = new SessionRegistry();
const app = new WireframeApp()
  .logger(silentLogger)
  .sessions(registry)
  .route(1, (req) => req.payload);
const server = new WireframeServer(app, { transport: memoryTransport });
const { port } = await server.listen({ port: 0 });
const request = new LengthDelimitedCodec().encode(
  defaultSerializer.encode({ id: 1, correlationId: 1n, payload: new Uint8Array(8) }),
);

/** One client: connect, one round trip (so it is registered), disconnect, wait until it is gone. */
async function cycle(): Promise<void> {
  const conn = await memoryTransport.connect({ hostname: "127.0.0.1", port });
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  await writer.write(request);
  let got = 0;
  while (got < request.length) {
    const { done, value } = await reader.read();
    if (done) throw new Error("closed before the reply");
    got += value.length;
  }
  const [handle] = registry.handles();
  if (handle === undefined) throw new Error("the connection was not registered");
  conn.close();
  await handle.closed;
  if (registry.get(handle.connectionId) !== undefined) throw new Error("dead id still registered");
}

/** Wait (bounded) until the server has no live connection left. */
async function quiesce(): Promise<void> {
  for (let i = 0; server.stats().connectionsActive > 0; i++) {
    if (i > 2_000) throw new Error("connections did not end");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const samples: { cycles: number; heapUsed: number; registrySize: number; active: number }[] = [];
for (let cycles = 1; cycles <= total; cycles++) {
  await cycle();
  if (checkpoints.includes(cycles)) {
    await quiesce();
    await collect();
    samples.push({
      cycles,
      heapUsed: process.memoryUsage().heapUsed,
      registrySize: registry.size,
      active: server.stats().connectionsActive,
    });
  }
}
await server.shutdown({ timeoutMs: 1_000 });

// The registry holds handles weakly: one nobody else references is swept after GC.
const unreferenced = new SessionRegistry();
(() => {
  const target: PushTarget = {
    connectionId: 1,
    closed: new Promise(() => {}),
    isClosed: false,
    tryPush: () => "queued",
    push: () => Promise.resolve(),
    takeRateToken: () => Promise.resolve(),
    tryTakeRateToken: () => true,
    deadLetter: () => {},
  };
  unreferenced.add(new PushHandle(target));
})();
await collect();
const weakRefCleared = unreferenced.get(1) === undefined && unreferenced.size === 0;

console.log(JSON.stringify({ samples, weakRefCleared }));
