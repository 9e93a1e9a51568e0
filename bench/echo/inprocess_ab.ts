// In-process A/B of two checkouts' servers: the echo app on the memory
// transport (no kernel, no load generator: only the framework's own work),
// 16 connections each keeping 16 echo requests in flight, runs alternating
// A B A B … so drift hits both; prints CPU ns per request (median per
// checkout) and the median of the per-pair ratios B/A. Run it with A = B
// too: the spread of that ratio is the noise floor of the machine.
//
// Usage: deno run -A bench/echo/inprocess_ab.ts DIR_A DIR_B [rounds] [pairs]
//        bun bench/echo/inprocess_ab.ts DIR_A DIR_B [rounds] [pairs]
// (each DIR a checkout with node_modules, e.g. a `git archive` plus a symlink)
import process from "node:process";
import { echoRequests } from "../_echo_requests.ts";

// deno-lint-ignore no-explicit-any
type Module = any;
interface Checkout {
  mod: Module;
  memory: Module;
}

const [dirA, dirB] = [process.argv[2], process.argv[3]];
if (dirA === undefined || dirB === undefined) {
  throw new Error("usage: inprocess_ab.ts DIR_A DIR_B [rounds] [pairs]");
}
const ROUNDS = Number(process.argv[4] ?? 1500);
const PAIRS = Number(process.argv[5] ?? 25);
const CONNECTIONS = 16;
const DEPTH = 16;

async function load(dir: string): Promise<Checkout> {
  return {
    mod: await import(`${dir}/mod.ts`),
    memory: (await import(`${dir}/src/transport/memory.ts`)).memoryTransport,
  };
}

async function drive(conn: Module, request: Uint8Array, rounds: number): Promise<void> {
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  for (let round = 0; round < rounds; round++) {
    await writer.write(request);
    let owed = request.length; // an echo answer is byte-for-byte the request's size
    while (owed > 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error("server closed the connection");
      owed -= value.length;
    }
  }
  reader.releaseLock();
  writer.releaseLock();
}

/** CPU ns per request of one run. */
async function measure({ mod, memory }: Checkout, rounds: number): Promise<number> {
  const app = new mod.WireframeApp().route(
    1,
    (request: { payload: Uint8Array }) => request.payload,
  );
  const server = new mod.WireframeServer(app, { transport: memory });
  const { port } = await server.listen({ port: 0 });
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => memory.connect({ port })),
  );
  const request = echoRequests(DEPTH, false);
  // CPU time, not wall time: on a shared VM, time stolen by other guests is not ours.
  const started = process.cpuUsage();
  await Promise.all(conns.map((conn) => drive(conn, request, rounds)));
  const used = process.cpuUsage(started);
  for (const conn of conns) conn.close();
  await server.shutdown({ timeoutMs: 1000 });
  return ((used.user + used.system) * 1000) / (rounds * CONNECTIONS * DEPTH);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const [a, b] = [await load(dirA), await load(dirB)];
await measure(a, ROUNDS / 2); // warm up both before anything counts
await measure(b, ROUNDS / 2);
const runsA: number[] = [];
const runsB: number[] = [];
const ratios: number[] = [];
for (let pair = 0; pair < PAIRS; pair++) {
  const x = await measure(a, ROUNDS);
  const y = await measure(b, ROUNDS);
  runsA.push(x);
  runsB.push(y);
  ratios.push(y / x);
}
console.log(JSON.stringify({
  runtime: "Deno" in globalThis ? "deno" : "bun",
  nsPerRequestA: Math.round(median(runsA)),
  nsPerRequestB: Math.round(median(runsB)),
  ratioMedian: Number(median(ratios).toFixed(3)),
  ratios: ratios.map((r) => Number(r.toFixed(3))),
}));
