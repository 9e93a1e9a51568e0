/**
 * Push benchmarks, server and clients in one process on loopback:
 *
 * - throughput with 1 and 4 concurrent pushers on one connection, pushing as
 *   fast as push() lets them (queueing delay included);
 * - latency, push() → the client has decoded the frame, closed loop: each of
 *   1 or 4 pushers sends its next frame once its previous one arrived;
 * - a broadcast of K frames to 1,000 connections (registry.broadcast with
 *   drop-if-full), timed until every connection has received every frame.
 *
 * Run: `deno run -A bench/push/push_bench.ts`, `bun bench/push/push_bench.ts` or
 * `node bench/push/push_bench.ts`
 * Options: --frames 200000 --connections 1000 --broadcasts 20
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import {
  type PushHandle,
  SessionRegistry,
  silentLogger,
  WireframeApp,
  WireframeClient,
  WireframeServer,
} from "../../mod.ts";
import { LengthDelimitedCodec } from "../../src/codec/mod.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    frames: { type: "string", default: "200000" },
    connections: { type: "string", default: "1000" },
    broadcasts: { type: "string", default: "20" },
  },
});
const FRAMES = Number(values.frames);
const CONNECTIONS = Number(values.connections);
const BROADCASTS = Number(values.broadcasts);
const START = 20;
const PUSHED = 21;
const runtime = "Deno" in globalThis
  ? `deno ${Deno.version.deno}`
  : "Bun" in globalThis
  ? `bun ${process.versions.bun}`
  : `node ${process.versions.node}`;

function stamp(): Uint8Array {
  const payload = new Uint8Array(64);
  new DataView(payload.buffer).setFloat64(0, performance.now());
  return payload;
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function pushThroughput(pushers: number): Promise<string> {
  const app = new WireframeApp().logger(silentLogger).route(START, (_req, ctx) => {
    for (let p = 0; p < pushers; p++) {
      void (async () => {
        for (let i = p; i < FRAMES; i += pushers) {
          await ctx.push.push({ id: PUSHED, payload: stamp() }, { priority: "high" });
        }
      })();
    }
    return new Uint8Array(0);
  });
  await using server = new WireframeServer(app);
  const { port } = await server.listen({ port: 0 });
  await using client = await WireframeClient.connect({ port, bufferSize: 4096 });
  const started = performance.now();
  await client.request(START, new Uint8Array(0));
  let n = 0;
  for await (const _ of client.pushes()) if (++n === FRAMES) break;
  const seconds = (performance.now() - started) / 1000;
  return `| ${runtime} | push throughput, ${pushers} pusher(s), 64 B | ` +
    `${Math.round(FRAMES / seconds)} frames/s | | |`;
}

async function pushLatency(pushers: number, frames: number): Promise<string> {
  let handle!: PushHandle;
  const app = new WireframeApp().logger(silentLogger).route(START, () => new Uint8Array(0))
    .onConnectionSetup((info) => {
      handle = info.push;
    });
  await using server = new WireframeServer(app);
  const { port } = await server.listen({ port: 0 });
  await using client = await WireframeClient.connect({ port });
  await client.request(START, new Uint8Array(0)); // setup has run once a request is answered
  const arrived: (() => void)[] = [];
  void (async () => {
    for await (const frame of client.pushes()) arrived[frame.payload[8]!]?.();
  })();
  const latencies = new Float64Array(frames);
  let n = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: pushers }, async (_, p) => {
    for (let i = p; i < frames; i += pushers) {
      const payload = stamp();
      payload[8] = p;
      const received = new Promise<void>((resolve) => (arrived[p] = resolve));
      const sentAt = performance.now();
      await handle.push({ id: PUSHED, payload });
      await received;
      latencies[n++] = performance.now() - sentAt;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  const us = (p: number) => (percentile(latencies, p) * 1000).toFixed(0);
  return `| ${runtime} | push latency, ${pushers} pusher(s), closed loop | ` +
    `${Math.round(frames / seconds)} frames/s | ${us(0.5)} µs | ${us(0.99)} µs |`;
}

async function broadcast(): Promise<string> {
  const sessions = new SessionRegistry();
  const app = new WireframeApp().logger(silentLogger).sessions(sessions).pushQueues({
    highCapacity: BROADCASTS,
  });
  await using server = new WireframeServer(app, { maxConnections: CONNECTIONS + 10 });
  const { port } = await server.listen({ port: 0 });
  const transport = await runtimeTransport();
  const codec = new LengthDelimitedCodec();
  const received = new Int32Array(CONNECTIONS);
  let complete = 0;
  let allReceived!: () => void;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  const conns = [];
  for (let c = 0; c < CONNECTIONS; c++) {
    const conn = await transport.connect({ port });
    conns.push(conn);
    const decoder = codec.createDecoder();
    const count = () => {
      if (++received[c]! === BROADCASTS && ++complete === CONNECTIONS) allReceived();
    };
    void (async () => {
      for await (const chunk of conn.readable) decoder.decode(chunk, count);
    })().catch(() => {});
  }
  while (sessions.size < CONNECTIONS) await new Promise((r) => setTimeout(r, 10));
  const payload = new Uint8Array(64);
  const started = performance.now();
  let queuedTotal = 0;
  for (let b = 0; b < BROADCASTS; b++) {
    queuedTotal += await sessions.broadcast({ id: PUSHED, payload }, {
      priority: "high",
      policy: "drop-if-full",
    });
  }
  const queuedMs = performance.now() - started;
  await done;
  const totalMs = performance.now() - started;
  for (const conn of conns) conn.close();
  const delivered = CONNECTIONS * BROADCASTS;
  return `| ${runtime} | broadcast ×${BROADCASTS} to ${CONNECTIONS} connections | ` +
    `${Math.round(delivered / (totalMs / 1000))} frames/s (${queuedTotal}/${delivered} queued) | ` +
    `${(queuedMs / BROADCASTS).toFixed(1)} ms per broadcast call | ${
      totalMs.toFixed(0)
    } ms until all delivered |`;
}

console.log("| runtime | case | throughput | p50 / per call | p99 / total |");
console.log("| --- | --- | ---: | ---: | ---: |");
console.log(await pushThroughput(1));
console.log(await pushThroughput(4));
console.log(await pushLatency(1, 20_000));
console.log(await pushLatency(4, 20_000));
console.log(await broadcast());
process.exit(0);
