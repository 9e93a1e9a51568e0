#!/usr/bin/env node
// bench/mqtt: examples/mqtt/broker.ts (on Deno and on Bun) side by side with aedes (npm, on Node)
// and mosquitto (Debian, C), in one run, over loopback, with one load generator (load.mjs).
//
// Usage: node bench/mqtt/run.mjs [--seconds 5] [--reps 1] [--brokers deno,bun,aedes,mosquitto]
//          [--scenarios fanout,pairs,idle] [--subscribers 1000] [--pairs 100] [--idle 10000]
//          [--fanout-window 16] [--pairs-window 8] [--no-pin]
//
// Scenarios (issue 14): (a) fanout: 1 publisher → 1,000 subscribers, QoS 0, 16 B;
// (b) pairs: 100 publishers → 100 subscribers one-to-one, QoS 1; (c) idle: 10,000 connected idle
// clients, broker RSS. Method: the broker runs on CPU 1 and the load generator on CPU 0
// (taskset; the machine has 2 cores), brokers one after another, each freshly started; each
// scenario warms up 1 s and measures --seconds. Deliveries/s is what the subscribers received;
// latency is publish → deliver (the sender's clock in the payload, same process); CPU per
// delivery is the broker's utime+stime over the measured window / deliveries (and broker CPU %
// the same over the window's length: below 100, the broker was not the bottleneck); RSS is the
// broker's VmRSS after the scenario (for idle: with every client connected, minus nothing).
// mosquitto runs with its defaults plus set_tcp_nodelay true, aedes with TCP_NODELAY on its
// sockets (both default to Nagle on; Wireframe's transports set TCP_NODELAY).
// Prints a markdown table, each broker's numbers as a ratio to aedes and to mosquitto.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    reps: { type: "string", default: "1" },
    brokers: { type: "string", default: "deno,bun,aedes,mosquitto" },
    scenarios: { type: "string", default: "fanout,pairs,idle" },
    subscribers: { type: "string", default: "1000" },
    pairs: { type: "string", default: "100" },
    idle: { type: "string", default: "10000" },
    "fanout-window": { type: "string", default: "16" },
    "pairs-window": { type: "string", default: "8" },
    "no-pin": { type: "boolean", default: false },
  },
});
const pin = !values["no-pin"];
const bin = (name) => join(root, "node_modules", ".bin", name);
const pinned = (cpu, cmd, args) => (pin ? ["taskset", ["-c", cpu, cmd, ...args]] : [cmd, args]);
const node = bin("node");

const brokers = {
  deno: { label: "wireframe (Deno)", cmd: [bin("deno"), ["run", "-A", "examples/mqtt/broker.ts"]] },
  bun: { label: "wireframe (Bun)", cmd: [bin("bun"), ["examples/mqtt/broker.ts"]] },
  aedes: { label: "aedes 1.2.0 (Node)", cmd: [node, ["bench/mqtt/aedes_broker.mjs"]] },
  mosquitto: { label: "mosquitto (C)", cmd: ["mosquitto", []], fixedPort: true },
};

const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime
};
const rssKiB = (pid) =>
  Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);

let nextFixedPort = 21_883;
async function startBroker(key) {
  const b = brokers[key];
  const [cmd, base] = b.cmd;
  let args = [...base, "--port", "0"];
  let port;
  if (b.fixedPort) { // mosquitto cannot pick a port and say which
    port = nextFixedPort++;
    // Its defaults but TCP_NODELAY, which the others set: with Nagle on, a closed-loop load
    // waits out delayed ACKs and measures them rather than the broker.
    const conf = join(mkdtempSync(join(tmpdir(), "mosquitto-")), "bench.conf");
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n`);
    args = [...base, "-c", conf];
  }
  const [c, a] = pinned("1", cmd, args);
  const child = spawn(c, a, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  if (b.fixedPort) {
    await waitForPort(port);
  } else {
    port = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const match = out.match(/listening on [^\s:]+:(\d+)/);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`${key} exited (${code}): ${err}`)));
    });
  }
  return { key, child, port, pid: child.pid };
}

async function waitForPort(port) {
  const net = await import("node:net");
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port}`);
}

async function stopBroker(b) {
  b.child.kill("SIGTERM");
  await new Promise((resolve) => {
    if (b.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => b.child.kill("SIGKILL"), 5_000);
    b.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function runLoad(broker, scenario) {
  const args = [
    "bench/mqtt/load.mjs",
    "--port",
    String(broker.port),
    "--scenario",
    scenario,
    "--seconds",
    values.seconds,
    "--subscribers",
    values.subscribers,
    "--pairs",
    values.pairs,
    "--idle",
    values.idle,
    "--window",
    scenario === "fanout" ? values["fanout-window"] : values["pairs-window"],
  ];
  const [c, a] = pinned("0", node, args);
  const child = spawn(c, a, { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let from, ticks, rss;
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (from === undefined && out.includes("measuring\n")) from = cpuTicks(broker.pid);
      if (ticks === undefined && out.includes("measured\n")) {
        ticks = cpuTicks(broker.pid) - from;
        rss = rssKiB(broker.pid);
      }
      if (rss === undefined && out.includes("idle-ready\n")) {
        rss = rssKiB(broker.pid);
        child.stdin.write("done\n");
      }
    });
    child.once("exit", (code) => {
      const line = out.trim().split("\n").at(-1);
      if (code !== 0) return reject(new Error(`load ${scenario} on ${broker.key} exited ${code}`));
      const result = JSON.parse(line);
      result.rssMiB = rss / 1024;
      if (ticks !== undefined) {
        result.cpuUsPerDelivery = (ticks * 10_000) / result.deliveries;
        result.cpuPercent = ticks / result.seconds; // ticks are 10 ms: per second, that is percent
      }
      resolve(result);
    });
  });
}

const scenarioNames = {
  fanout: `(a) fan-out 1 → ${values.subscribers}, QoS 0, 16 B`,
  pairs: `(b) ${values.pairs} → ${values.pairs} one-to-one, QoS 1`,
  idle: `(c) ${values.idle} idle clients`,
};

const keys = values.brokers.split(",");
const scenarios = values.scenarios.split(",");
const results = {}; // scenario → broker → [result per rep]
for (let rep = 0; rep < Number(values.reps); rep++) {
  for (const scenario of scenarios) {
    for (const key of keys) {
      const broker = await startBroker(key);
      const baseRss = rssKiB(broker.pid);
      try {
        const r = await runLoad(broker, scenario);
        r.baseRssMiB = baseRss / 1024;
        ((results[scenario] ??= {})[key] ??= []).push(r);
        console.error(`${scenario} ${key}: ${JSON.stringify(r)}`);
      } finally {
        await stopBroker(broker);
      }
    }
  }
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) =>
    a - b
  );
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
};
const fmt = (
  x,
  digits = 0,
) => (x === undefined ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits }));
const ratio = (x, base, higherIsBetter = true) =>
  x === undefined || base === undefined
    ? "–"
    : `${(higherIsBetter ? x / base : x / base).toFixed(2)}×`;

const cpuInfo = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
const versions = {
  deno: spawnSync(bin("deno"), ["--version"]).stdout?.toString().split("\n")[0],
  bun: spawnSync(bin("bun"), ["--version"]).stdout?.toString().trim(),
  node: spawnSync(node, ["--version"]).stdout?.toString().trim(),
  mosquitto: spawnSync("mosquitto", ["-h"]).stdout?.toString().split("\n")[0],
};
console.log(
  `\nbench/mqtt — ${cpuInfo}; ${versions.deno}; bun ${versions.bun}; node ${versions.node};` +
    ` ${versions.mosquitto}; ${values.seconds} s per scenario, ${values.reps} rep(s), ` +
    `${pin ? "broker on CPU 1, load on CPU 0" : "unpinned"}\n`,
);
for (const scenario of scenarios) {
  const rows = results[scenario] ?? {};
  const m = (key, field) => median((rows[key] ?? []).map((r) => r[field]));
  console.log(`### ${scenarioNames[scenario]}\n`);
  if (scenario === "idle") {
    console.log("| broker | RSS MiB | RSS / aedes | RSS / mosquitto | KiB per client |");
    console.log("| --- | --: | --: | --: | --: |");
    for (const key of keys) {
      const rss = m(key, "rssMiB"), base = m(key, "baseRssMiB");
      const per = rss === undefined ? undefined : ((rss - base) * 1024) / Number(values.idle);
      console.log(
        `| ${brokers[key].label} | ${fmt(rss, 1)} | ${ratio(rss, m("aedes", "rssMiB"))} | ` +
          `${ratio(rss, m("mosquitto", "rssMiB"))} | ${fmt(per, 1)} |`,
      );
    }
  } else {
    console.log(
      "| broker | deliveries/s | / aedes | / mosquitto | p50 µs | p99 µs | CPU µs/delivery | / aedes | / mosquitto | broker CPU % | RSS MiB |",
    );
    console.log("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |");
    for (const key of keys) {
      const rate = m(key, "perSecond"), cpu = m(key, "cpuUsPerDelivery");
      console.log(
        `| ${brokers[key].label} | ${fmt(rate)} | ${ratio(rate, m("aedes", "perSecond"))} | ` +
          `${ratio(rate, m("mosquitto", "perSecond"))} | ${fmt(m(key, "p50Us"))} | ${
            fmt(m(key, "p99Us"))
          } | ` +
          `${fmt(cpu, 2)} | ${ratio(cpu, m("aedes", "cpuUsPerDelivery"))} | ` +
          `${ratio(cpu, m("mosquitto", "cpuUsPerDelivery"))} | ${fmt(m(key, "cpuPercent"))} | ` +
          `${fmt(m(key, "rssMiB"), 1)} |`,
      );
    }
  }
  console.log("");
}
