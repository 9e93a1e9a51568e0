#!/usr/bin/env node
// bench/abuse latency probe, in a process of its own: run.mjs's event loop is
// saturated by the load it generates (endless streams, bulk echoes), so a probe
// sharing that loop would time the load generator as much as the server.
//
// Usage: node bench/abuse/probe.mjs --port P [--timeout-ms 3000]
//
// Protocol on stdio, so that this process's startup costs no part of the
// measured window: it prints `ready` once loaded, then waits for one line on
// stdin holding the window in ms. It then opens a NEW connection and does
// sequential 64 B id-1 echoes until the window ends (each allowed
// `--timeout-ms`), and prints one JSON line:
//   { probes, timeouts, p50Us, p99Us, firstEchoMs[, probeError] }
// where firstEchoMs is the time from starting to connect until the first echo
// came back (null if none did). If stdin closes before the window arrives, it
// exits without probing.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { connect, RpcConnection } from "./_wire.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "timeout-ms": { type: "string", default: "3000" },
  },
});
const port = Number(values.port);
const timeoutMs = Number(values["timeout-ms"]);
if (!(port > 0)) {
  console.error("probe.mjs: --port P is required");
  process.exit(2);
}

const now = () => performance.now(); // ms

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

/** Sequential echoes on a new connection for `windowMs`; resolves to the result record. */
async function probe(windowMs) {
  const startedAt = now();
  const deadline = startedAt + windowMs;
  let socket;
  try {
    socket = await connect(port, null, timeoutMs);
  } catch (error) {
    return { probes: 0, timeouts: 0, probeError: `connect: ${error.message}` };
  }
  const rpc = new RpcConnection(socket);
  const payload = Buffer.alloc(64, 0x70);
  const latenciesUs = [];
  let timeouts = 0;
  let firstEchoMs = null;
  let probeError;
  // Bounded: the deadline, and a count no 5 s window gets near.
  for (let i = 0; i < 1_000_000 && now() < deadline; i++) {
    const sentAt = now();
    const outcome = await rpc.request(1, payload, timeoutMs);
    if (outcome.ok) {
      latenciesUs.push((now() - sentAt) * 1000);
      firstEchoMs ??= now() - startedAt;
    } else if (outcome.why === "timeout") {
      timeouts++;
    } else {
      probeError = `connection ${outcome.why} (${socket.lastError ?? "EOF"})`;
      break;
    }
  }
  socket.destroy();
  return {
    probes: latenciesUs.length,
    timeouts,
    p50Us: Math.round(percentile(latenciesUs, 0.5)),
    p99Us: Math.round(percentile(latenciesUs, 0.99)),
    firstEchoMs: firstEchoMs === null ? null : Math.round(firstEchoMs * 10) / 10,
    ...(probeError ? { probeError } : {}),
  };
}

/** The first line on stdin, or null if stdin closes without one. */
async function firstLine() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return null;
}

console.log("ready");
const line = await firstLine();
if (line !== null) {
  const windowMs = Number(line);
  console.log(JSON.stringify(await probe(windowMs)));
}
