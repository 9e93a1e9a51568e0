// The cost of enabling fragmentation for messages that fit one frame, measured
// in process (no kernel, no load generator: only the framework's own work).
//
// Usage: deno run -A bench/fragment_overhead.ts [rounds] [pairs]
//        bun bench/fragment_overhead.ts [rounds] [pairs]
//
// Two servers on the memory transport: examples/echo_server.ts's framing with
// the same 8 KiB frame limit (plain), and examples/fragment_echo_server.ts
// (LenFlag32K on). 16 connections each keep one batch of 16 echo requests
// (64-byte payloads) in flight, as bench/echo/load.mjs does over TCP. Runs of
// each server alternate (A B A B …) so drift hits both; each run reports wall
// CPU time per request, and the summary is the median per server and the median
// of the per-pair ratios.
import process from "node:process";
import { WireframeApp, WireframeServer } from "../mod.ts";
import { LenFlag32K } from "../src/fragment/mod.ts";
import { memoryTransport } from "../src/transport/memory.ts";
import type { Connection } from "../src/transport/types.ts";
import { MAX_FRAGMENT_PAYLOAD, MAX_FRAME } from "../examples/fragment_echo_server.ts";
import { echoRequests } from "./_echo_requests.ts";

const CONNECTIONS = 16;
const DEPTH = 16;
const ROUNDS = Number(process.argv[2] ?? 2000);
const PAIRS = Number(process.argv[3] ?? 7);

function plainApp(): WireframeApp {
  return new WireframeApp().codec({ maxFrameLength: MAX_FRAME }).route(1, (r) => r.payload);
}

function fragmentApp(): WireframeApp {
  return plainApp().fragmentation(
    new LenFlag32K({ maxFragmentPayload: MAX_FRAGMENT_PAYLOAD }),
    { maxMessageSize: 16 * 1024 * 1024, maxBufferedBytes: 32 * 1024 * 1024 },
  );
}

/** Send `rounds` batches on one connection, each after the previous batch's answers arrived. */
async function drive(conn: Connection, request: Uint8Array, rounds: number): Promise<void> {
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

async function measure(app: WireframeApp, fragmented: boolean, rounds: number): Promise<number> {
  const server = new WireframeServer(app, { transport: memoryTransport });
  const { port } = await server.listen({ port: 0 });
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => memoryTransport.connect({ port })),
  );
  const request = echoRequests(DEPTH, fragmented);
  // CPU time, not wall time: on a shared VM, time stolen by other guests is not ours.
  const started = process.cpuUsage();
  await Promise.all(conns.map((conn) => drive(conn, request, rounds)));
  const used = process.cpuUsage(started);
  const elapsed = (used.user + used.system) / 1000;
  for (const conn of conns) conn.close();
  await server.shutdown({ timeoutMs: 1000 });
  return (elapsed * 1e6) / (rounds * CONNECTIONS * DEPTH);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

// Warm up both paths so the JIT has compiled them before anything counts.
await measure(plainApp(), false, ROUNDS / 2);
await measure(fragmentApp(), true, ROUNDS / 2);

const plain: number[] = [];
const fragmented: number[] = [];
const ratios: number[] = [];
for (let pair = 0; pair < PAIRS; pair++) {
  const a = await measure(plainApp(), false, ROUNDS);
  const b = await measure(fragmentApp(), true, ROUNDS);
  plain.push(a);
  fragmented.push(b);
  ratios.push(b / a);
  console.log(`pair ${pair + 1}: plain ${a.toFixed(0)} ns/req, fragmented ${b.toFixed(0)} ns/req`);
}
const overhead = (median(ratios) - 1) * 100;
console.log(
  `median: plain ${median(plain).toFixed(0)} ns/req, fragmented ${
    median(fragmented).toFixed(0)
  } ns/req, overhead ${overhead >= 0 ? "+" : ""}${
    overhead.toFixed(1)
  }% (median of ${PAIRS} pair ratios)`,
);
