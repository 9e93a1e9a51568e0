#!/usr/bin/env node
// bench/abuse: how the example servers hold up against hostile or careless
// clients, on Deno and on Bun, for several source roots side by side in one run.
//
// Usage:
//   node bench/abuse/run.mjs [--roots before=/work/base,after=/work/main]
//     [--runtimes deno,bun] [--scenarios all | stream-starvation,bulk-fairness,
//      idle-memory,churn,broadcast,slow-consumer,malformed] [--seconds F] [--quick]
//     [--idle 3000] [--churn 10000] [--churn-warmup 1000] [--malformed 2000]
//     [--raw] [--no-pin] [--json FILE] [--deno-v8-flags FLAGS]
//
// Each root is a checkout of this repo; its server runs from that root
// (cwd = root) with the deno/bun binaries of THIS repo's node_modules/.bin, so
// only the source differs between roots. Every cell (scenario × runtime × root)
// gets a fresh server process; the cells of one scenario run back to back so
// roots are compared under the same machine conditions. --raw adds one more
// root, `raw`: bench/echo/raw_server.ts of THIS repo (the runtime's own socket
// API, no library), in the scenarios it can serve (bulk-fairness, idle-memory,
// churn; it only echoes id 1 and never rejects a frame), so those tables carry
// the runtime's own floor next to the library's rows. --deno-v8-flags passes
// FLAGS (e.g. --max-semi-space-size=1) to every Deno server as --v8-flags, to
// see which part of a Deno number is V8's heap sizing rather than the code.
//
// Scenarios (the default windows; --seconds F multiplies the long ones):
//   stream-starvation  5 clients read endless id-2 streams at full speed; after
//                      1 s a probe on a NEW connection does sequential 64 B
//                      echoes for 5 s (3 s timeout each). Then SIGTERM: time to
//                      exit (kill -9 after 35 s), exit code, and whether each
//                      stream ended with a clean EOF exactly at a frame boundary.
//                      (The window ends with the probe: up to 3 s past 5 s if
//                      its last echo times out; frames/s uses the real window.)
//   bulk-fairness      64 connections echo 512 KiB frames, one in flight each,
//                      for 10 s; round trips per connection; probe alongside.
//   idle-memory        RSS per idle connection (3,000 that each did one echo).
//   churn              connect/echo/close cycles, 50 at a time: RSS and fds
//                      after 10,000 and 20,000 cycles vs a warmed baseline
//                      (the RSS after --churn-warmup cycles). On Deno, V8
//                      keeps growing its young generation (semi-spaces 8 ->
//                      32 MiB) for the first few thousand cycles, a one-time
//                      plateau: a longer warm-up puts it in the baseline.
//   broadcast          push_server: 50 subscribers, one broadcaster keeping 4
//                      16 KiB broadcasts in flight for 20 s; RSS growth (sampled
//                      every 250 ms), broadcasts/s, deliveries per subscriber.
//   slow-consumer      slow_consumer_server (push_server, drain timeout 5 s): 50
//                      subscribers that never read, 1 that does, a broadcaster
//                      keeping 4 16 KiB broadcasts in flight for 20 s; RSS
//                      growth over the RSS before the load (and over the
//                      RSS at 2 s, once warm, as broadcast), when the server's
//                      slowConsumers count reached 50, and whether the healthy
//                      subscriber received its broadcasts in order (a drop
//                      policy may skip some if it falls behind). Needs a root
//                      with the slow-consumer guard.
//   malformed          2,000 connections (50 at a time) each send one frame
//                      whose flags set bit 1; the server must close each one.
//                      Counts the server's stderr lines and RSS growth.
//
// Method: with --pin (the default) the server runs on CPU 1 and the client
// side on CPU 0 (this process, all its threads, and the probe process), so
// server and clients never share a core. The load generator is this one Node
// thread; its own event loop is part of what it measures itself (bulk round
// trips, churn cycles/s, …). The echo-latency probe is not: it runs in a Node
// process of its own (probe.mjs), started before the load and told over stdin
// when its window opens, so neither its startup nor this process's saturated
// event loop (5 endless streams, 64 bulk echoes) is in its latencies. It still
// shares CPU 0 with this process, so the OS scheduler can delay it there.
// _wire.mjs holds the wire format and client connections both scripts use.
// RSS is VmRSS of the server's pid (taskset execs, so that pid is the
// server's own; checked via /proc/<pid>/exe). Loopback only (127.0.0.1).
// Every load loop is bounded both by a deadline and by a count.
//
// Output: one markdown table per scenario (a row per runtime × root) on
// stdout, progress on stderr, and a JSON dump of every result as the last line
// of stdout (or into --json FILE).
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  connect,
  encodeRequest,
  frameId,
  FrameReader,
  MALFORMED_FRAME,
  payloadStart,
  RpcConnection,
  u32,
} from "./_wire.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const bin = (name) => join(repo, "node_modules", ".bin", name);

// ---------------------------------------------------------------------------
// Options

const { values } = parseArgs({
  options: {
    roots: { type: "string", default: `current=${repo}` },
    runtimes: { type: "string", default: "deno,bun" },
    scenarios: { type: "string", default: "all" },
    // No defaults here for the knobs --quick changes, so an explicit value wins.
    seconds: { type: "string" },
    idle: { type: "string" },
    churn: { type: "string" },
    "churn-warmup": { type: "string" },
    malformed: { type: "string" },
    quick: { type: "boolean", default: false },
    pin: { type: "boolean", default: true },
    // Node 20's parseArgs has no --no-<flag>, so it is an option of its own.
    "no-pin": { type: "boolean", default: false },
    raw: { type: "boolean", default: false },
    json: { type: "string" },
    "deno-v8-flags": { type: "string" },
  },
});
const quick = values.quick;
const opt = {
  scale: Number(values.seconds ?? (quick ? 0.2 : 1)),
  idle: Number(values.idle ?? (quick ? 500 : 3000)),
  churn: Number(values.churn ?? (quick ? 1000 : 10_000)),
  churnWarmup: Number(values["churn-warmup"] ?? (quick ? 200 : 1000)),
  malformed: Number(values.malformed ?? (quick ? 300 : 2000)),
  pin: values.pin && !values["no-pin"],
  // SIGTERM → exit is never scaled: the grace period is the server's (5 s).
  killAfterSeconds: 35,
};
const windows = {
  probe: Math.max(1, 5 * opt.scale),
  bulk: Math.max(2, 10 * opt.scale),
  broadcast: Math.max(3, 20 * opt.scale),
  slowConsumer: Math.max(8, 20 * opt.scale),
};
const roots = values.roots.split(",").map((spec) => {
  const at = spec.indexOf("=");
  const dir = resolve(at < 0 ? spec : spec.slice(at + 1));
  return { name: at < 0 ? basename(dir) : spec.slice(0, at), dir };
});
if (values.raw) roots.push({ name: "raw", dir: repo, raw: true });
const runtimes = values.runtimes.split(",");

// ---------------------------------------------------------------------------
// Small helpers

const now = () => performance.now(); // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A sleep that does not keep this process alive once everything else is done.
const unrefSleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());
const log = (...parts) =>
  console.error(`[abuse ${new Date().toISOString().slice(11, 19)}]`, ...parts);

const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

/** Rejects after `ms` so a wedged scenario cannot hang the whole run. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `fn(i)` for i < total with at most `concurrency` running, launching no
 * new one after `deadline` (ms, performance.now clock). Resolves to the
 * number launched. Bounded in count and in time, as every load loop here is.
 */
async function pool(total, concurrency, deadline, fn) {
  let next = 0;
  const worker = async () => {
    while (next < total && now() < deadline) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return next;
}

// ---------------------------------------------------------------------------
// Processes: the servers under test, and pinning

const children = new Set();
// Whatever way this script ends, no server outlives it.
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    log(`got ${signal}, killing servers`);
    process.exit(130);
  });
}

const procStatus = (pid, field) => {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(
      new RegExp(`^${field}:\\s*(.*)$`, "m"),
    );
    return match ? match[1].trim() : null;
  } catch {
    return null; // the process is gone
  }
};
const rssKiB = (pid) => {
  const value = procStatus(pid, "VmRSS");
  return value === null ? null : parseInt(value, 10);
};
const fdCount = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};

/** Moves every thread of this process onto CPU 0 (the server gets CPU 1). */
function pinSelf() {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });
  } catch (error) {
    log(`taskset on self failed (${error.message}); running unpinned`);
  }
  return procStatus(process.pid, "Cpus_allowed_list");
}

const serverCommand = {
  deno: (file) => [bin("deno"), [
    "run",
    "-A",
    ...(values["deno-v8-flags"] ? [`--v8-flags=${values["deno-v8-flags"]}`] : []),
    file,
    "--port",
    "0",
  ]],
  bun: (file) => [bin("bun"), [file, "--port", "0"]],
};

/**
 * Starts `file` of `root` on `runtime` and resolves once it printed
 * `listening on HOST:PORT`. The returned record tracks the server's stderr
 * (line count and a few sample lines) and its exit.
 */
function startServer(root, runtime, file) {
  let [cmd, args] = serverCommand[runtime](file);
  // taskset execs the command, so the spawned pid becomes the server's own.
  if (opt.pin) [cmd, args] = ["taskset", ["-c", "1", cmd, ...args]];
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const server = {
    child,
    pid: child.pid,
    port: 0,
    stderrLines: 0,
    stderrSample: [],
    exit: null,
    stopRequested: false,
  };
  server.exited = new Promise((resolveExit) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      server.exit = { code, signal, at: now() };
      resolveExit(server.exit);
    });
  });
  let partial = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop();
    server.stderrLines += lines.length;
    for (const line of lines) {
      if (server.stderrSample.length < 3) server.stderrSample.push(line.slice(0, 300));
    }
  });
  child.stdout.setEncoding("utf8");
  return new Promise((resolveStart, rejectStart) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rejectStart(new Error("server printed no `listening on` in 30 s"));
    }, 30_000);
    child.stdout.on("data", (text) => {
      if (server.port) return; // keep draining stdout, nothing more to parse
      out += text;
      const match = out.match(/listening on (\S+):(\d+)/);
      if (!match) return;
      clearTimeout(timer);
      server.port = Number(match[2]);
      // Check the pid really is the server (taskset exec'd), so RSS and fds are its.
      try {
        server.exe = basename(readlinkSync(`/proc/${server.pid}/exe`));
      } catch {
        server.exe = "?";
      }
      server.cpus = procStatus(server.pid, "Cpus_allowed_list");
      resolveStart(server);
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      rejectStart(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      rejectStart(new Error(`server exited before listening (${code ?? signal})`));
    });
  });
}

/**
 * SIGTERM, then SIGKILL if the server is still there after `killAfterMs`.
 * Resolves to { seconds (null if it never exited by itself), code, signal, killed }.
 */
async function stopServer(server, killAfterMs = 10_000) {
  if (server.exit) return { seconds: 0, code: server.exit.code, signal: server.exit.signal };
  server.stopRequested = true;
  const sentAt = now();
  server.child.kill("SIGTERM");
  const exit = await Promise.race([server.exited, unrefSleep(killAfterMs).then(() => null)]);
  if (exit) {
    return { seconds: (exit.at - sentAt) / 1000, code: exit.code, signal: exit.signal };
  }
  server.child.kill("SIGKILL");
  const killed = await Promise.race([server.exited, unrefSleep(5000).then(() => null)]);
  return {
    seconds: null,
    code: killed?.code ?? null,
    signal: killed?.signal ?? null,
    killed: true,
  };
}

// ---------------------------------------------------------------------------
// The latency probe, in a process of its own (probe.mjs): this process's event
// loop is busy with the load it generates, and must not be part of the
// latencies the probe reports.

const PROBE_SCRIPT = join(here, "probe.mjs");

/**
 * Starts probe.mjs against `port` and resolves once it has loaded, so its
 * startup costs no part of the window it measures. `run(windowMs)` then opens
 * that window and resolves to the probe's record { probes, timeouts, p50Us,
 * p99Us, firstEchoMs[, probeError] }; a probe process that fails is reported
 * there as a probeError too, so the scenario's other numbers still count.
 * The process joins `cell.processes`, so the cell kills it if it outlives the
 * cell.
 */
async function startProbe(port, cell) {
  let [cmd, args] = [process.execPath, [PROBE_SCRIPT, "--port", String(port)]];
  // Same CPU as this process: the load generator's side, never the server's core.
  if (opt.pin) [cmd, args] = ["taskset", ["-c", "0", cmd, ...args]];
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  children.add(child);
  cell.processes.add(child);
  const ended = new Promise((resolveEnded) => {
    child.once("error", (error) => resolveEnded(error.message));
    child.once("exit", (code, signal) => {
      children.delete(child);
      cell.processes.delete(child);
      resolveEnded(signal ?? `exit ${code}`);
    });
  });
  // A probe that died before reading its window would make the write fail;
  // that shows up as its missing result line, not as a crash of this process.
  child.stdin.on("error", () => {});
  // Take the iterator now: it buffers lines until they are asked for.
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => (await lines.next()).value ?? null;
  const failed = async (what) => ({
    probes: 0,
    timeouts: 0,
    probeError: `probe ${what} (${await ended})`,
  });

  const ready = (await nextLine()) === "ready";
  if (ready) log(`probe pid ${child.pid}, cpus ${procStatus(child.pid, "Cpus_allowed_list")}`);
  return {
    async run(windowMs) {
      if (!ready) return failed("did not start");
      child.stdin.end(`${Math.max(0, Math.round(windowMs))}\n`);
      const line = await nextLine();
      if (line === null) return failed("printed no result");
      try {
        return JSON.parse(line);
      } catch {
        return failed("printed no JSON");
      }
    },
  };
}

/** Waits until `socket` closes, at most `timeoutMs`; resolves to true if it closed. */
function closed(socket, timeoutMs) {
  if (socket.destroyed && socket.closed) return Promise.resolve(true);
  return new Promise((resolveClosed) => {
    const timer = setTimeout(() => resolveClosed(false), timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolveClosed(true);
    });
  });
}

/** One echo on a fresh connection; resolves to the connected socket or throws. */
async function connectAndEcho(port, cell, payload, timeoutMs = 10_000) {
  const socket = await connect(port, cell, timeoutMs);
  const rpc = new RpcConnection(socket);
  const outcome = await rpc.request(1, payload, timeoutMs);
  if (!outcome.ok) {
    socket.destroy();
    throw new Error(`echo ${outcome.why}`);
  }
  return socket;
}

// ---------------------------------------------------------------------------
// Scenarios. Each run(server, cell) resolves to a flat record of metrics.

const ECHO_SERVER = "examples/echo_server.ts";
const PUSH_SERVER = "examples/push_server.ts";
const SLOW_CONSUMER_SERVER = "bench/abuse/slow_consumer_server.ts";
// The --raw root's server: the same wire format for id 1, and no library.
const RAW_SERVER = "bench/echo/raw_server.ts";

/** 1. Endless streams vs a fresh connection, then SIGTERM with the streams still running. */
async function streamStarvation(server, cell) {
  const prober = await startProbe(server.port, cell);
  const streams = [];
  for (let i = 0; i < 5; i++) {
    const socket = await connect(server.port, cell);
    const stream = { socket, seqOk: true, eof: false, error: null, atBoundary: null };
    stream.reader = new FrameReader((buf, start, end) => {
      // Payloads count 0, 1, 2, …: a gap or repeat means a lost or garbled frame.
      if (frameId(buf, start) !== 2 || buf.readUInt32BE(end - 4) !== stream.reader.frames - 1) {
        stream.seqOk = false;
      }
    });
    socket.on("data", (chunk) => stream.reader.push(chunk));
    socket.on("end", () => (stream.eof = true));
    socket.on("error", (error) => (stream.error ??= error.code ?? error.message));
    stream.closed = new Promise((r) =>
      socket.once("close", () => {
        stream.atBoundary = stream.reader.pendingBytes === 0;
        r();
      })
    );
    socket.write(encodeRequest(2, 1, u32(0xFFFFFFFF)));
    streams.push(stream);
  }
  await sleep(1000);
  const framesAtStart = streams.map((s) => s.reader.frames);
  const rssAtStart = rssKiB(server.pid);
  const windowStart = now();
  const probed = await prober.run(windows.probe * 1000);
  const windowSeconds = (now() - windowStart) / 1000;
  const inWindow = streams.map((s, i) => s.reader.frames - framesAtStart[i]);
  // A server that buffers what it cannot send would show here.
  const rssAtEnd = rssKiB(server.pid);

  // SIGTERM while the streams still run: a graceful shutdown has to stop them.
  const stop = await stopServer(server, opt.killAfterSeconds * 1000);
  // Their sockets close once the server is gone; 5 s is plenty after that.
  await Promise.race([Promise.all(streams.map((s) => s.closed)), sleep(5000)]);
  const stillOpen = streams.filter((s) => s.atBoundary === null).length;
  return {
    framesInWindow: inWindow,
    framesPerSecond: Math.round(inWindow.reduce((a, b) => a + b, 0) / windowSeconds),
    minMaxRatio: Math.min(...inWindow) / Math.max(...inWindow, 1),
    ...probed,
    rssStartMiB: rssAtStart / 1024,
    rssEndMiB: rssAtEnd / 1024,
    exitSeconds: stop.seconds,
    exitCode: stop.code,
    exitSignal: stop.signal,
    killed: Boolean(stop.killed),
    cleanEof: streams.filter((s) => s.eof && !s.error).length,
    atBoundary: streams.filter((s) => s.atBoundary).length,
    streamErrors: streams.map((s) => s.error).filter(Boolean),
    streamBytes: streams.map((s) => s.reader.bytes),
    seqOk: streams.every((s) => s.seqOk),
    stillOpen,
    stopped: true,
  };
}

/** 2. 64 closed loops of 512 KiB echoes: does every connection get its turn? */
async function bulkFairness(server, cell) {
  const windowMs = windows.bulk * 1000;
  const payload = Buffer.alloc(512 * 1024, 0x62);
  const prober = await startProbe(server.port, cell);
  const rpcs = [];
  for (let i = 0; i < 64; i++) rpcs.push(new RpcConnection(await connect(server.port, cell)));
  const startedAt = now();
  const deadline = startedAt + windowMs;
  const roundTrips = rpcs.map(() => 0);
  const failures = [];
  const loops = rpcs.map(async (rpc, i) => {
    // Bounded by the deadline and by a count far above what 10 s allows.
    for (let n = 0; n < 100_000 && now() < deadline; n++) {
      const outcome = await rpc.request(1, payload, 10_000);
      if (!outcome.ok) {
        failures.push(outcome.why);
        return;
      }
      if (outcome.end - payloadStart(outcome.buf, outcome.start) !== payload.length) {
        failures.push("short echo");
        return;
      }
      roundTrips[i]++;
    }
  });
  // The probe joins once the bulk loops are in full swing.
  await sleep(Math.min(1000, windowMs / 4));
  const probed = await prober.run(deadline - now());
  await Promise.all(loops);
  const seconds = (now() - startedAt) / 1000;
  const total = roundTrips.reduce((a, b) => a + b, 0);
  const mid = median(roundTrips);
  return {
    rtMin: Math.min(...roundTrips),
    rtMedian: mid,
    rtMax: Math.max(...roundTrips),
    maxOverMedian: mid > 0 ? Math.max(...roundTrips) / mid : null,
    echoMiBps: Math.round((total * 0.5) / seconds),
    failures: failures.length,
    ...probed,
  };
}

/** 3. RSS per idle connection: each did one echo (so the server set it up fully), then idles. */
async function idleMemory(server, cell) {
  await sleep(1000);
  const before = rssKiB(server.pid);
  const sockets = [];
  let failed = 0;
  const payload = Buffer.alloc(16, 0x69);
  await pool(opt.idle, 100, now() + 60_000, async () => {
    try {
      sockets.push(await connectAndEcho(server.port, cell, payload));
    } catch {
      failed++;
    }
  });
  await sleep(3000);
  const after = rssKiB(server.pid);
  const fds = fdCount(server.pid);
  for (const socket of sockets) socket.destroy();
  return {
    connections: sockets.length,
    failed,
    rssBeforeMiB: before / 1024,
    rssAfterMiB: after / 1024,
    kibPerConnection: sockets.length ? (after - before) / sockets.length : null,
    fdsWithIdle: fds,
  };
}

/** 4. Connect, echo, close, over and over: does anything stay behind? */
async function churn(server, cell) {
  const payload = Buffer.alloc(64, 0x63);
  let failed = 0;
  const cycle = async () => {
    try {
      const socket = await connectAndEcho(server.port, cell, payload, 5000);
      socket.end(); // a polite close; wait for the server's side to close too
      if (!(await closed(socket, 5000))) {
        failed++;
        socket.destroy();
      }
    } catch {
      failed++;
    }
  };
  /** `count` cycles, 50 at a time, at most 120 s; resolves to cycles per second. */
  const batch = async (count) => {
    const startedAt = now();
    const launched = await pool(count, 50, startedAt + 120_000, cycle);
    return { launched, perSecond: Math.round(launched / ((now() - startedAt) / 1000)) };
  };
  const fdsStart = fdCount(server.pid);
  await batch(opt.churnWarmup);
  await sleep(2000);
  const base = rssKiB(server.pid);
  const fdsBase = fdCount(server.pid);
  const first = await batch(opt.churn);
  await sleep(2000);
  const rss1 = rssKiB(server.pid);
  const second = await batch(opt.churn);
  await sleep(2000);
  const rss2 = rssKiB(server.pid);
  return {
    baseMiB: base / 1024,
    delta1MiB: (rss1 - base) / 1024,
    delta2MiB: (rss2 - base) / 1024,
    cyclesPerSecond: Math.round((first.perSecond + second.perSecond) / 2),
    cycles: first.launched + second.launched,
    failed,
    fdsStart,
    fdsBase,
    fdsEnd: fdCount(server.pid),
  };
}

/** 5. Broadcast storm to 50 readers with drop-if-full: does memory stay bounded? */
async function broadcast(server, cell) {
  const windowMs = windows.broadcast * 1000;
  const payload = Buffer.alloc(16 * 1024, 0x42);
  const deliveries = [];
  for (let i = 0; i < 50; i++) {
    const socket = await connect(server.port, cell);
    const index = deliveries.push(0) - 1;
    const reader = new FrameReader((buf, start) => {
      if (frameId(buf, start) === 13) deliveries[index]++;
    });
    socket.on("data", (chunk) => reader.push(chunk));
  }
  // The broadcaster receives its own id-13 pushes too; they just get read.
  const broadcaster = new RpcConnection(await connect(server.port, cell));
  const startedAt = now();
  const deadline = startedAt + windowMs;
  const queuedCounts = [];
  let failures = 0;
  const sender = async () => {
    for (let n = 0; n < 10_000_000 && now() < deadline; n++) {
      const outcome = await broadcaster.request(12, payload, 10_000);
      if (!outcome.ok) {
        failures++;
        return;
      }
      queuedCounts.push(outcome.buf.readUInt32BE(payloadStart(outcome.buf, outcome.start)));
    }
  };
  const senders = Array.from({ length: 4 }, sender); // 4 broadcasts in flight
  // RSS every 250 ms; the baseline is the sample at 2 s, once warm.
  let base = null;
  let peak = null;
  const sampler = setInterval(() => {
    const rss = rssKiB(server.pid);
    if (rss === null) return;
    if (base === null && now() - startedAt >= 2000) base = rss;
    if (base !== null) peak = Math.max(peak ?? rss, rss);
  }, 250);
  await sleep(windowMs);
  clearInterval(sampler);
  const end = rssKiB(server.pid);
  if (base !== null && end !== null) peak = Math.max(peak ?? end, end); // the end is a sample too
  const seconds = (now() - startedAt) / 1000;
  await Promise.race([Promise.all(senders), sleep(10_000)]);
  const sent = queuedCounts.length;
  return {
    broadcastsPerSecond: Math.round(sent / seconds),
    deliveredMin: Math.min(...deliveries),
    deliveredMedian: median(deliveries),
    deliveredShare: sent ? median(deliveries) / sent : null,
    queuedMedian: median(queuedCounts),
    baseMiB: base === null ? null : base / 1024,
    endDeltaMiB: base === null || end === null ? null : (end - base) / 1024,
    peakDeltaMiB: base === null ? null : (peak - base) / 1024,
    failures,
  };
}

/**
 * 5b. 50 subscribers that never read beside one that does, under a broadcast
 * storm: memory stays bounded, the stalled ones are closed at the drain
 * timeout, the healthy one keeps its order.
 */
async function slowConsumer(server, cell) {
  const windowMs = windows.slowConsumer * 1000;
  const stalled = [];
  for (let i = 0; i < 50; i++) {
    const socket = await connect(server.port, cell);
    socket.pause(); // never reads: the server's writes to it stall once the kernel buffers fill
    socket.on("error", () => {});
    stalled.push(socket);
  }
  const healthy = { received: 0, outOfOrder: 0, last: -1 };
  const healthySocket = await connect(server.port, cell);
  const reader = new FrameReader((buf, start) => {
    if (frameId(buf, start) !== 13) return;
    const n = buf.readUInt32BE(payloadStart(buf, start));
    if (n <= healthy.last) healthy.outOfOrder++;
    healthy.last = n;
    healthy.received++;
  });
  healthySocket.on("data", (chunk) => reader.push(chunk));
  const broadcaster = new RpcConnection(await connect(server.port, cell));
  const stats = new RpcConnection(await connect(server.port, cell));
  await sleep(1000);
  const base = rssKiB(server.pid);
  let peak = base;
  const startedAt = now();
  const deadline = startedAt + windowMs;
  let sent = 0;
  let failures = 0;
  let seq = 0;
  const sender = async () => {
    for (let n = 0; n < 10_000_000 && now() < deadline; n++) {
      const payload = Buffer.alloc(16 * 1024, 0x42);
      payload.writeUInt32BE(seq++);
      const outcome = await broadcaster.request(12, payload, 10_000);
      if (!outcome.ok) {
        failures++;
        return;
      }
      sent++;
    }
  };
  const senders = Array.from({ length: 4 }, sender);
  let allClosedAtMs = null;
  let slowConsumers = 0;
  // Also the RSS at 2 s, once the runtime's heap is warm (the broadcast scenario's baseline).
  let warm = null;
  const sampler = setInterval(async () => {
    const rss = rssKiB(server.pid);
    if (rss !== null && base !== null) peak = Math.max(peak, rss);
    if (rss !== null && warm === null && now() - startedAt >= 2000) warm = rss;
    const outcome = await stats.request(20, Buffer.alloc(0), 2_000);
    if (!outcome.ok) return;
    slowConsumers = outcome.buf.readUInt32BE(payloadStart(outcome.buf, outcome.start));
    if (slowConsumers >= 50 && allClosedAtMs === null) allClosedAtMs = now() - startedAt;
  }, 250);
  await sleep(windowMs);
  clearInterval(sampler);
  const end = rssKiB(server.pid);
  if (end !== null) peak = Math.max(peak, end);
  await Promise.race([Promise.all(senders), sleep(10_000)]);
  const seconds = (now() - startedAt) / 1000;
  for (const socket of stalled) socket.destroy();
  return {
    broadcastsPerSecond: Math.round(sent / seconds),
    healthyReceived: healthy.received,
    healthyShare: sent ? healthy.received / sent : null,
    healthyOutOfOrder: healthy.outOfOrder,
    slowConsumers,
    allClosedAtS: allClosedAtMs === null ? null : allClosedAtMs / 1000,
    baseMiB: base === null ? null : base / 1024,
    endDeltaMiB: base === null || end === null ? null : (end - base) / 1024,
    peakDeltaMiB: base === null ? null : (peak - base) / 1024,
    warmMiB: warm === null ? null : warm / 1024,
    peakOverWarmMiB: warm === null ? null : (peak - warm) / 1024,
    failures,
  };
}

/** 6. One malformed envelope per connection: each should be closed, cheaply and quietly. */
async function malformed(server, cell) {
  await sleep(1000);
  const before = rssKiB(server.pid);
  const linesBefore = server.stderrLines;
  const outcomes = { eof: 0, reset: 0, timeout: 0, connectFailed: 0, repliedBytes: 0 };
  await pool(opt.malformed, 50, now() + 90_000, async () => {
    let socket;
    try {
      socket = await connect(server.port, cell);
    } catch {
      outcomes.connectFailed++;
      return;
    }
    let eof = false;
    socket.on("end", () => (eof = true));
    socket.on("data", (chunk) => (outcomes.repliedBytes += chunk.length));
    socket.write(MALFORMED_FRAME);
    if (!(await closed(socket, 5000))) {
      outcomes.timeout++;
      socket.destroy();
    } else if (eof && !socket.lastError) outcomes.eof++;
    else outcomes.reset++;
  });
  await sleep(1000); // let the last log lines and frees land
  return {
    closedByServer: outcomes.eof + outcomes.reset,
    ...outcomes,
    stderrLines: server.stderrLines - linesBefore,
    stderrSample: server.stderrSample[0] ?? "",
    rssDeltaMiB: (rssKiB(server.pid) - before) / 1024,
  };
}

// ---------------------------------------------------------------------------
// Tables: each scenario's columns, as [header, (row) → cell text].

const fixed =
  (digits) => (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));
const int = (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : String(Math.round(x)));
const compact = (
  x,
) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${Math.round(x / 1e3)}k` : String(x));
const probeColumns = [
  ["probes", (r) => int(r.probes)],
  ["probe timeouts", (r) => int(r.timeouts) + (r.probeError ? ` (${r.probeError})` : "")],
  ["probe p50 µs", (r) => int(r.p50Us)],
  ["probe p99 µs", (r) => int(r.p99Us)],
];

const scenarios = [
  {
    key: "stream-starvation",
    title: () =>
      `stream-starvation: 5 endless id-2 streams; probe ${windows.probe} s on a new connection; then SIGTERM`,
    file: ECHO_SERVER,
    run: streamStarvation,
    budgetSeconds: () => 1 + windows.probe + 3 + opt.killAfterSeconds + 5 + 30,
    columns: [
      ["stream frames in window", (r) => `[${r.framesInWindow.map(compact).join(", ")}]`],
      ["frames/s (all)", (r) => compact(r.framesPerSecond)],
      ["min/max", (r) => fixed(2)(r.minMaxRatio)],
      ...probeColumns,
      ["connect+1st echo ms", (r) => (r.firstEchoMs === null ? "none" : fixed(1)(r.firstEchoMs))],
      ["server RSS MiB", (r) => `${fixed(0)(r.rssStartMiB)} → ${fixed(0)(r.rssEndMiB)}`],
      [
        "SIGTERM→exit s",
        (
          r,
        ) => (r.killed ? `no exit (kill -9 at ${opt.killAfterSeconds})` : fixed(2)(r.exitSeconds)),
      ],
      ["exit code", (r) => (r.exitCode === null ? (r.exitSignal ?? "–") : String(r.exitCode))],
      [
        "clean EOF",
        (r) =>
          `${r.cleanEof}/5` +
          (r.streamErrors.length ? ` (${[...new Set(r.streamErrors)].join(",")})` : ""),
      ],
      ["ends at frame boundary", (r) => `${r.atBoundary}/5` + (r.seqOk ? "" : " (seq gap!)")],
    ],
  },
  {
    key: "bulk-fairness",
    rawServer: RAW_SERVER,
    title: () =>
      `bulk-fairness: 64 connections × 512 KiB echo, 1 in flight each, ${windows.bulk} s; probe alongside`,
    file: ECHO_SERVER,
    run: bulkFairness,
    budgetSeconds: () => windows.bulk + 10 + 3 + 30,
    columns: [
      ["round trips min", (r) => int(r.rtMin)],
      ["median", (r) => int(r.rtMedian)],
      ["max", (r) => int(r.rtMax)],
      ["max/median", (r) => fixed(2)(r.maxOverMedian)],
      ["echo MiB/s", (r) => int(r.echoMiBps)],
      ["failed conns", (r) => int(r.failures)],
      ...probeColumns,
    ],
  },
  {
    key: "idle-memory",
    rawServer: RAW_SERVER,
    title: () => `idle-memory: ${opt.idle} idle connections (one echo each)`,
    file: ECHO_SERVER,
    run: idleMemory,
    budgetSeconds: () => 1 + 60 + 3 + 30,
    columns: [
      ["connections", (r) => int(r.connections) + (r.failed ? ` (${r.failed} failed)` : "")],
      ["RSS before MiB", (r) => fixed(1)(r.rssBeforeMiB)],
      ["RSS with idle MiB", (r) => fixed(1)(r.rssAfterMiB)],
      ["KiB per connection", (r) => fixed(1)(r.kibPerConnection)],
      ["server fds", (r) => int(r.fdsWithIdle)],
    ],
  },
  {
    key: "churn",
    rawServer: RAW_SERVER,
    title: () =>
      `churn: connect/echo 64 B/close, 50 at a time; ${opt.churnWarmup} warm-up, then 2 × ${opt.churn}`,
    file: ECHO_SERVER,
    run: churn,
    budgetSeconds: () => 3 * 120 + 6 + 30,
    columns: [
      ["warm RSS MiB", (r) => fixed(1)(r.baseMiB)],
      [`Δ after ${opt.churn} MiB`, (r) => fixed(1)(r.delta1MiB)],
      [`Δ after ${2 * opt.churn} MiB`, (r) => fixed(1)(r.delta2MiB)],
      ["cycles/s", (r) => int(r.cyclesPerSecond)],
      ["failed", (r) => int(r.failed)],
      ["fds start → warm → end", (r) => `${r.fdsStart} → ${r.fdsBase} → ${r.fdsEnd}`],
    ],
  },
  {
    key: "broadcast",
    title: () =>
      `broadcast: push_server, 50 subscribers, 16 KiB broadcasts × 4 in flight, ${windows.broadcast} s`,
    file: PUSH_SERVER,
    run: broadcast,
    budgetSeconds: () => windows.broadcast + 10 + 30,
    columns: [
      ["broadcasts/s", (r) => int(r.broadcastsPerSecond)],
      ["delivered/subscriber min", (r) => int(r.deliveredMin)],
      ["median", (r) => int(r.deliveredMedian)],
      ["median/sent", (r) => fixed(2)(r.deliveredShare)],
      ["queued to (median)", (r) => int(r.queuedMedian)],
      ["warm RSS MiB", (r) => fixed(1)(r.baseMiB)],
      ["Δ end MiB", (r) => fixed(1)(r.endDeltaMiB)],
      ["Δ peak MiB", (r) => fixed(1)(r.peakDeltaMiB)],
      ["failed", (r) => int(r.failures)],
    ],
  },
  {
    key: "slow-consumer",
    title: () =>
      `slow-consumer: 50 subscribers that never read + 1 healthy, 16 KiB broadcasts × 4 in flight, ${windows.slowConsumer} s, drain timeout 5 s`,
    file: SLOW_CONSUMER_SERVER,
    run: slowConsumer,
    budgetSeconds: () => windows.slowConsumer + 1 + 10 + 30,
    columns: [
      ["broadcasts/s", (r) => int(r.broadcastsPerSecond)],
      ["healthy received", (r) => int(r.healthyReceived)],
      ["healthy/sent", (r) => fixed(2)(r.healthyShare)],
      ["out of order", (r) => int(r.healthyOutOfOrder)],
      ["closed as slow", (r) => `${r.slowConsumers}/50`],
      ["all closed at s", (r) => fixed(1)(r.allClosedAtS)],
      ["RSS before MiB", (r) => fixed(1)(r.baseMiB)],
      ["Δ end MiB", (r) => fixed(1)(r.endDeltaMiB)],
      ["Δ peak MiB", (r) => fixed(1)(r.peakDeltaMiB)],
      ["warm (2 s) MiB", (r) => fixed(1)(r.warmMiB)],
      ["peak − warm MiB", (r) => fixed(1)(r.peakOverWarmMiB)],
      ["failed", (r) => int(r.failures)],
    ],
  },
  {
    key: "malformed",
    title: () =>
      `malformed: ${opt.malformed} connections (50 at a time), one envelope with flags bit 1 set`,
    file: ECHO_SERVER,
    run: malformed,
    budgetSeconds: () => 1 + 90 + 1 + 30,
    columns: [
      ["closed by server", (r) => `${r.closedByServer}/${opt.malformed}`],
      ["EOF / reset / timeout", (r) => `${r.eof} / ${r.reset} / ${r.timeout}`],
      ["reply bytes", (r) => int(r.repliedBytes)],
      ["stderr lines", (r) => int(r.stderrLines)],
      ["RSS Δ MiB", (r) => fixed(1)(r.rssDeltaMiB)],
    ],
  },
];

/** The `server` column: did the server survive and stop when asked? */
function serverStatus(row) {
  if (row.error) return `error: ${row.error}`;
  if (row.crash) return `crashed (${row.crash})`;
  if (row.stop?.killed) return "ok, needed kill -9";
  return "ok";
}

function printTable(scenario, rows) {
  const headers = ["runtime", "root", "server", ...scenario.columns.map(([h]) => h)];
  console.log(`\n### ${scenario.title()}\n`);
  console.log(`| ${headers.join(" | ")} |`);
  console.log(`| ${headers.map((_, i) => (i < 3 ? "---" : "---:")).join(" | ")} |`);
  for (const row of rows) {
    const cells = scenario.columns.map(([, cell]) => {
      if (row.error && !row.metrics) return "–";
      try {
        return cell(row.metrics);
      } catch {
        return "?";
      }
    });
    console.log(`| ${[row.runtime, row.root, serverStatus(row), ...cells].join(" | ")} |`);
  }
}

// ---------------------------------------------------------------------------
// Main

/** One cell: a fresh server, the scenario against it, then a clean stop. */
async function runCell(scenario, root, runtime) {
  const row = { scenario: scenario.key, runtime, root: root.name };
  const cell = { sockets: new Set(), processes: new Set() };
  let server;
  try {
    server = await startServer(root.dir, runtime, root.raw ? scenario.rawServer : scenario.file);
    Object.assign(row, { pid: server.pid, exe: server.exe, cpus: server.cpus });
    log(
      `${scenario.key} ${runtime} ${root.name}: pid ${server.pid} is ${server.exe}, cpus ${server.cpus}, port ${server.port}`,
    );
    if (/taskset/.test(server.exe)) {
      log("warning: the pid is taskset's, RSS/fd numbers are not the server's");
    }
    row.metrics = await withTimeout(
      scenario.run(server, cell),
      scenario.budgetSeconds() * 1000,
      scenario.key,
    );
  } catch (error) {
    row.error = error.message;
  } finally {
    for (const socket of cell.sockets) socket.destroy();
    for (const child of cell.processes) child.kill("SIGKILL");
    if (server) {
      if (server.exit && !server.stopRequested) {
        row.crash = server.exit.signal ?? `exit ${server.exit.code}`;
      }
      if (!server.exit) row.stop = await stopServer(server);
      row.stderrLines = server.stderrLines;
      if (server.stderrSample.length) row.stderrSample = server.stderrSample;
    }
  }
  log(
    `${scenario.key} ${runtime} ${root.name}: ${
      row.error ? `ERROR ${row.error}` : JSON.stringify(row.metrics)
    }`,
  );
  return row;
}

const wanted = values.scenarios === "all"
  ? scenarios.map((s) => s.key)
  : values.scenarios.split(",");
const unknown = wanted.filter((key) => !scenarios.some((s) => s.key === key));
if (unknown.length) {
  console.error(
    `unknown scenario(s): ${unknown.join(", ")}; known: ${scenarios.map((s) => s.key).join(", ")}`,
  );
  process.exit(2);
}
const selfCpus = opt.pin ? pinSelf() : procStatus(process.pid, "Cpus_allowed_list");
log(
  `roots ${
    roots.map((r) => `${r.name}=${r.dir}`).join(", ")
  }; runtimes ${runtimes}; pin ${opt.pin} (self on cpus ${selfCpus})`,
);
log(
  `windows ${
    JSON.stringify(windows)
  }; idle ${opt.idle}; churn ${opt.churnWarmup}+2×${opt.churn}; malformed ${opt.malformed}`,
);

const startedAt = now();
const results = [];
console.log(`## bench/abuse (${new Date().toISOString()})`);
console.log(
  `\nroots: ${
    roots.map((r) => `${r.name}=${r.dir}`).join(", ")
  }; pinned: ${opt.pin}; --seconds ${opt.scale}${
    values["deno-v8-flags"] ? `; deno --v8-flags=${values["deno-v8-flags"]}` : ""
  }`,
);
for (const scenario of scenarios.filter((s) => wanted.includes(s.key))) {
  const rows = [];
  // Roots side by side within each runtime: the comparison that matters runs back to back.
  for (const runtime of runtimes) {
    for (const root of roots) {
      if (root.raw && !scenario.rawServer) continue; // the raw server cannot play this one
      rows.push(await runCell(scenario, root, runtime));
    }
  }
  printTable(scenario, rows);
  results.push(...rows);
}
const totalSeconds = Math.round((now() - startedAt) / 1000);
console.log(`\n(total ${totalSeconds} s)`);
log(`done in ${totalSeconds} s`);
const dump = JSON.stringify({ options: { ...opt, windows, roots, runtimes }, results });
if (values.json) writeFileSync(values.json, dump + "\n");
else console.log(dump);
