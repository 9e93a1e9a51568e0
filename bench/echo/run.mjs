#!/usr/bin/env node
// bench/echo: request/response throughput and latency of examples/echo_server.ts
// against a hand-written raw server (bench/echo/raw_server.ts) in the same wire
// format, on Deno and on Bun, over loopback; plus RSS per idle connection.
// Usage: node bench/echo/run.mjs [--seconds 5] [--reps 3] [--idle 2000] [--runtimes deno,bun,node]
//          [--servers raw,wireframe,wireframe+frag] [--scenarios load,single,paced]
//          [--rate 100000] [--pin]
//   --servers wireframe@/path/to/other/checkout compares against another checkout.
// Prints a markdown table; ratios are wireframe / raw on the same runtime.
// Servers alternate within each rep. With wireframe+frag and its baseline
// (wireframe-8k if run, else wireframe), also the fragmentation overhead:
// server CPU per request of wireframe+frag over the baseline, per rep. The
// `paced` scenario offers every server the same --rate (see load.mjs), which
// is the like-for-like comparison of CPU per request on a shared machine.
// --pin runs the server on CPU 1 and the load generator on CPU 0 (taskset), so
// neither is scheduled onto the other's core mid-run: less noise, on 2 cores.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    reps: { type: "string", default: "3" },
    idle: { type: "string", default: "2000" },
    runtimes: { type: "string", default: "deno,bun" },
    servers: { type: "string", default: "raw,wireframe,wireframe+frag" },
    scenarios: { type: "string", default: "load,single" },
    rate: { type: "string", default: "100000" },
    pin: { type: "boolean", default: false },
  },
});
// taskset execs the command, so the child's pid is the server's or the load's own.
const pinned = (cpu, cmd, args) =>
  values.pin ? ["taskset", ["-c", cpu, cmd, ...args]] : [cmd, args];
const bin = (name) => join(root, "node_modules", ".bin", name);
const command = {
  deno: (file) => [bin("deno"), ["run", "-A", file, "--port", "0"]],
  bun: (file) => [bin("bun"), [file, "--port", "0"]],
  node: (file) => [bin("node"), [file, "--port", "0"]],
};
const serverFiles = {
  raw: "bench/echo/raw_server.ts",
  wireframe: "examples/echo_server.ts",
  // Fragmentation on, messages that fit one fragment: its overhead on the common case.
  "wireframe+frag": "examples/fragment_echo_server.ts",
  // The same app, codec (8 KiB frames) and route as wireframe+frag, fragmentation off.
  "wireframe-8k": "bench/echo/unfragmented_server.ts",
  // The echo server with the OpenTelemetry SDK registered (every span sampled,
  // exporters that discard): the cost of recording.
  "wireframe+otel": "bench/echo/otel_server.ts",
};
const loadFlags = { "wireframe+frag": ["--lenflag"] };
const scenarios = [
  { key: "load", name: "50 conn × 16 in flight", connections: 50, depth: 16 },
  { key: "single", name: "1 conn × 1 in flight", connections: 1, depth: 1 },
  {
    key: "paced",
    name: `50 conn, ${values.rate} req/s offered`,
    connections: 50,
    depth: 16,
    rate: Number(values.rate),
  },
].filter((s) => values.scenarios.split(",").includes(s.key));

// A server named `NAME@DIR` runs NAME's file from another checkout DIR (with this
// checkout's runtimes), so a change can be measured against its base in one run.
function startServer(runtime, server) {
  const [kind, checkout] = server.split("@");
  const [cmd, args] = pinned("1", ...command[runtime](serverFiles[kind]));
  const child = spawn(cmd, args, { cwd: checkout ?? root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on ([^\s:]+):(\d+)/);
      if (match) resolve({ name: server, child, port: Number(match[2]) });
    });
    child.on("exit", (code) => reject(new Error(`${runtime} ${server} exited with ${code}`)));
  });
}

async function stopServer({ child }) {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  child.kill("SIGKILL");
}

// Runs load.mjs against `server` and resolves to its result plus `ticks`, the
// server's CPU time over exactly the measured window (load.mjs marks it).
function load(server, scenario) {
  const args = [
    join(root, "bench/echo/load.mjs"),
    "--port",
    String(server.port),
    "--connections",
    String(scenario.connections),
    "--depth",
    String(scenario.depth),
    "--seconds",
    values.seconds,
    ...(scenario.rate ? ["--rate", String(scenario.rate)] : []),
    ...(loadFlags[server.name.split("@")[0]] ?? []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(...pinned("0", process.execPath, args), {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = server.child.pid;
    let out = "";
    let from;
    let ticks;
    child.stdout.on("data", (chunk) => {
      out += chunk;
      from ??= out.includes("measuring\n") ? cpuTicks(pid) : undefined;
      ticks ??= out.includes("measured\n") ? cpuTicks(pid) - from : undefined;
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load exited ${code}`));
      resolve({ ...JSON.parse(out.trim().split("\n").at(-1)), ticks });
    });
  });
}

// utime + stime of a process, in clock ticks (100 per second on Linux).
const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
};

const rssKiB = (pid) =>
  Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);

async function idleRss(port, pid, count) {
  const before = rssKiB(pid);
  const sockets = [];
  for (let i = 0; i < count; i++) {
    sockets.push(
      await new Promise((resolve, reject) => {
        const socket = net.connect({ host: "127.0.0.1", port }, () => resolve(socket));
        socket.once("error", reject);
      }),
    );
  }
  // One echo per connection proves the server is serving each one, then they idle.
  const frame = Buffer.from([0, 0, 0, 13, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  await Promise.all(sockets.map((s) =>
    new Promise((resolve) => {
      s.once("data", resolve);
      s.write(frame);
    })
  ));
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKiB(pid);
  for (const s of sockets) s.destroy();
  return { before, after, perConnection: ((after - before) * 1024) / count };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const servers = values.servers.split(",");
const results = [];
const cpuRatios = []; // per rep, the second server over the first (see below)
for (const runtime of values.runtimes.split(",")) {
  for (const scenario of scenarios) {
    const runs = new Map(servers.map((server) => [server, []]));
    // Servers alternate within each rep (A B A B …), so drift on a shared
    // machine hits every server alike instead of whichever ran last.
    for (let rep = 0; rep < Number(values.reps); rep++) {
      for (const server of servers) {
        const running = await startServer(runtime, server);
        try {
          const { ticks, ...result } = await load(running, scenario);
          // CPU the server spent per request answered in the measured window
          // (ticks are 10 ms; a 4 s window at 100k req/s is ~175 of them).
          runs.get(server).push({
            ...result,
            cpuUsPerRequest: (ticks * 10_000) / Math.max(result.requests, 1),
          });
        } finally {
          await stopServer(running);
        }
      }
    }
    for (const server of servers) {
      const serverRuns = runs.get(server);
      // The run of median throughput; at a paced rate (the same for all), of median CPU.
      const key = scenario.rate ? "cpuUsPerRequest" : "rps";
      const best = serverRuns.find((r) => r[key] === median(serverRuns.map((x) => x[key])));
      results.push({ runtime, scenario: scenario.name, server, ...best });
      console.error(`${runtime} ${server} ${scenario.name}: ${JSON.stringify(best)}`);
    }
    // With two servers, the second's CPU per request over the first's, per rep
    // (e.g. wireframe-8k,wireframe+frag: fragmentation's overhead; or
    // wireframe@/base,wireframe: a change against its base).
    const [plain, fragmented] = servers.length === 2 ? servers.map((s) => runs.get(s)) : [];
    if (plain && fragmented) {
      const ratios = plain.map((p, i) => fragmented[i].cpuUsPerRequest / p.cpuUsPerRequest);
      // A second estimate beside the median: all reps' CPU over all their requests.
      const pooled = (runs) =>
        runs.reduce((sum, r) => sum + r.cpuUsPerRequest * r.requests, 0) /
        runs.reduce((sum, r) => sum + r.requests, 0);
      cpuRatios.push({
        runtime,
        scenario: scenario.name,
        ratios,
        pooled: pooled(fragmented) / pooled(plain),
      });
    }
  }
}
const idle = [];
// RSS per idle connection, for the servers of bench/echo's main table (--idle 0 skips it).
for (const runtime of Number(values.idle) > 0 ? values.runtimes.split(",") : []) {
  for (
    const server of values.servers.split(",").filter((s) =>
      !["wireframe+frag", "wireframe-8k"].includes(s)
    )
  ) {
    const running = await startServer(runtime, server);
    try {
      idle.push({
        runtime,
        server,
        ...(await idleRss(running.port, running.child.pid, Number(values.idle))),
      });
    } finally {
      await stopServer(running);
    }
  }
}

console.log(
  `| runtime | scenario | server | req/s | p50 µs | p99 µs | server CPU µs/req | vs raw (req/s) |`,
);
console.log(`| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |`);
for (const r of results) {
  const raw = results.find((x) =>
    x.runtime === r.runtime && x.scenario === r.scenario && x.server === "raw"
  );
  const ratio = raw ? (r.rps / raw.rps).toFixed(2) + "×" : "";
  const cpu = r.cpuUsPerRequest.toFixed(1);
  console.log(
    `| ${r.runtime} | ${r.scenario} | ${r.server} | ${r.rps} | ${r.p50Us} | ${r.p99Us} | ${cpu} | ${ratio} |`,
  );
}
if (cpuRatios.length > 0) {
  console.log();
  console.log(
    `| runtime | scenario | server CPU per request, ${servers[1]} / ${
      servers[0]
    }, per rep | median | pooled |`,
  );
  console.log(`| --- | --- | --- | ---: | ---: |`);
  for (const { runtime, scenario, ratios, pooled } of cpuRatios) {
    const each = ratios.map((r) => r.toFixed(2)).join(", ");
    console.log(
      `| ${runtime} | ${scenario} | ${each} | ${median(ratios).toFixed(3)} | ${
        pooled.toFixed(3)
      } |`,
    );
  }
}
if (idle.length > 0) {
  console.log();
  console.log(
    `| runtime | server | RSS before (MiB) | RSS with ${values.idle} idle (MiB) | per connection (KiB) |`,
  );
  console.log(`| --- | --- | ---: | ---: | ---: |`);
  for (const r of idle) {
    console.log(
      `| ${r.runtime} | ${r.server} | ${(r.before / 1024).toFixed(1)} | ${
        (r.after / 1024).toFixed(1)
      } | ${(r.perConnection / 1024).toFixed(1)} |`,
    );
  }
}
