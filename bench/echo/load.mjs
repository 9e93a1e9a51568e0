#!/usr/bin/env node
// Load generator for bench/echo, on Node's net module so every server under
// test is measured by the same client. Keeps `depth` id-1 requests (64-byte
// payloads, correlated) in flight on each of `connections` sockets for
// `seconds` after a warm-up. Prints `measuring` when the measured window opens,
// `measured` when it closes (so a caller can read the server's CPU time over
// exactly that window), then one JSON line: { requests, seconds, rps, p50Us, p99Us }.
// Usage: node bench/echo/load.mjs --port P [--connections 50] [--depth 16]
//          [--payload 64] [--seconds 5] [--warmup 1] [--lenflag] [--rate R]
// By default each answer is replaced at once (closed loop: as fast as the
// server and this generator go). --rate R paces the load instead: R requests
// per second in all, spread evenly over the connections and sent every
// millisecond, still at most `depth` in flight per connection. At a rate both
// servers sustain, each sees the same reads and writes, so their CPU per
// request compares like for like (a saturated closed loop batches differently
// for a faster server).
// --lenflag wraps each envelope in one final LenFlag32K fragment (2-byte
// header), as examples/fragment_echo_server.ts expects.
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    hostname: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    connections: { type: "string", default: "50" },
    depth: { type: "string", default: "16" },
    payload: { type: "string", default: "64" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    lenflag: { type: "boolean", default: false },
    rate: { type: "string", default: "0" },
  },
});
const port = Number(values.port);
const connections = Number(values.connections);
const depth = Number(values.depth);
const payloadSize = Number(values.payload);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const rate = Number(values.rate);

const FRAGMENT_HEADER = values.lenflag ? 2 : 0;
const ENVELOPE_AT = 4 + FRAGMENT_HEADER;
const FRAME = ENVELOPE_AT + 13 + payloadSize;
const payload = Buffer.alloc(payloadSize, 0x61);

function request(correlation) {
  const frame = Buffer.allocUnsafe(FRAME);
  frame.writeUInt32BE(FRAME - 4, 0);
  if (FRAGMENT_HEADER) frame.writeUInt16BE(0x8000 | (13 + payloadSize), 4);
  frame.writeUInt32BE(1, ENVELOPE_AT);
  frame.writeUInt8(1, ENVELOPE_AT + 4);
  frame.writeBigUInt64BE(BigInt(correlation), ENVELOPE_AT + 5);
  payload.copy(frame, ENVELOPE_AT + 13);
  return frame;
}

let measuring = false;
let stopping = false;
let completed = 0;
const latencies = [];

// One per connection: `topUp(due)` sends what its share of a paced rate owes;
// `stopIfIdle()` ends it at the stop if nothing is in flight (no answer will come).
const pacers = [];

function run(socket) {
  return new Promise((resolve, reject) => {
    const sentAt = new Map();
    let next = 1;
    let leftover = Buffer.alloc(0);
    let outstanding = 0;
    const send = (count) => {
      const frames = [];
      for (let i = 0; i < count; i++) {
        const c = next++;
        sentAt.set(c, process.hrtime.bigint());
        frames.push(request(c));
      }
      outstanding += count;
      socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
    };
    let issued = 0;
    pacers.push({
      topUp(due) {
        // A server that falls behind gets no burst later: the backlog is capped at `depth`.
        issued = Math.max(issued, due - depth);
        const count = Math.min(due - issued, depth - outstanding);
        if (stopping || count <= 0) return;
        issued += count;
        send(count);
      },
      stopIfIdle() {
        if (outstanding > 0) return;
        socket.end();
        resolve();
      },
    });
    socket.on("data", (chunk) => {
      const data = leftover.length ? Buffer.concat([leftover, chunk]) : chunk;
      let offset = 0;
      let done = 0;
      const now = process.hrtime.bigint();
      while (offset + 4 <= data.length) {
        const end = offset + 4 + data.readUInt32BE(offset);
        if (end > data.length) break;
        const c = Number(data.readBigUInt64BE(offset + ENVELOPE_AT + 5));
        const started = sentAt.get(c);
        sentAt.delete(c);
        if (measuring && started !== undefined) {
          completed++;
          latencies.push(Number(now - started) / 1000);
        }
        offset = end;
        done++;
      }
      leftover = data.subarray(offset);
      outstanding -= done;
      if (!stopping && done > 0 && rate === 0) send(done);
      if (stopping && outstanding === 0) {
        socket.end();
        resolve();
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve());
    if (rate === 0) send(depth);
  });
}

const sockets = await Promise.all(
  Array.from({ length: connections }, () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: values.hostname, port }, () => resolve(socket));
      socket.setNoDelay(true);
      socket.once("error", reject);
    })),
);
const runs = sockets.map(run);
let pacing;
if (rate > 0) {
  const perConnection = rate / connections / 1e9; // requests per nanosecond
  const start = process.hrtime.bigint();
  pacing = setInterval(() => {
    const due = Math.floor(Number(process.hrtime.bigint() - start) * perConnection);
    for (const pacer of pacers) pacer.topUp(due);
  }, 1);
}
await new Promise((r) => setTimeout(r, warmup * 1000));
measuring = true;
console.log("measuring");
const started = process.hrtime.bigint();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
console.log("measured");
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
stopping = true;
clearInterval(pacing);
for (const pacer of pacers) pacer.stopIfIdle();
await Promise.race([Promise.all(runs), new Promise((r) => setTimeout(r, 5000))]);
for (const socket of sockets) socket.destroy();

latencies.sort((a, b) => a - b);
const pct = (p) =>
  latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
    : NaN;
console.log(JSON.stringify({
  requests: completed,
  seconds: elapsed,
  rps: Math.round(completed / elapsed),
  p50Us: Math.round(pct(0.5)),
  p99Us: Math.round(pct(0.99)),
}));
