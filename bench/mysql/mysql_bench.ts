/**
 * bench/mysql: the MySQL example against MariaDB server and mysql2's own
 * server API, side by side in one run, driven by one client library (mysql2)
 * from this process:
 *
 * - `SELECT 1` round trips, one connection (sequential) and 32 connections
 *   (each sequential, all at once);
 * - rows/s of `SELECT seq FROM seq_1_to_1000000`, streamed by the client;
 * - server CPU (user + system, from /proc) per query and per 1,000 rows, and
 *   the server's RSS after each phase and its peak.
 *
 * Servers: examples/mysql/server.ts on Deno and on Bun, bench/mysql/
 * mysql2_server.ts on Node, and `mariadbd` (Debian mariadb-server, started
 * on a fresh temporary datadir; skipped if it is not installed).
 *
 * Run: `deno run -A bench/mysql/mysql_bench.ts [--quick]` (Linux: /proc).
 * The driver shares the machine with the server: the numbers are for
 * comparing the servers with each other, not absolute.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import { createConnection } from "mysql2";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const quick = process.argv.includes("--quick");
const ROUND_TRIPS_1 = quick ? 2_000 : 10_000;
const ROUND_TRIPS_32 = quick ? 8_000 : 40_000;
const ROWS = 1_000_000;

interface Running {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`${what}: no '${pattern}' in 60 s:\n${out}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}):\n${out}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

async function startListening(name: string, command: string, args: string[]): Promise<Running> {
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const match = await waitForLine(child, /listening on [^:\s]+:(\d+)/, name);
  return { name, port: Number(match[1]), pid: child.pid!, stop: () => stopChild(child) };
}

async function startMariadb(): Promise<Running | undefined> {
  try {
    execFileSync("mariadbd", ["--version"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-mariadb-"));
  execFileSync("mariadb-install-db", [
    "--no-defaults",
    `--datadir=${dir}`,
    "--user=root",
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
  ], { stdio: "ignore" });
  const port = await freePort();
  const child = spawn("mariadbd", [
    "--no-defaults",
    `--datadir=${dir}`,
    "--user=root",
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--socket=${join(dir, "sock")}`,
    `--pid-file=${join(dir, "pid")}`,
    "--skip-grant-tables",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=32M",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  await waitForLine(child, /ready for connections/, "mariadbd");
  const setup = await mysql.createConnection({ host: "127.0.0.1", port, user: "root" });
  await setup.query("CREATE DATABASE IF NOT EXISTS test");
  await setup.end();
  return {
    name: `MariaDB ${execFileSync("mariadbd", ["--version"]).toString().split(/\s+/)[2]}`,
    port,
    pid: child.pid!,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU ms (user + system) of process `pid`. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return ticks * 10; // USER_HZ = 100
}

/** RSS and peak RSS of `pid`, in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

interface Result {
  readonly name: string;
  qps1: number;
  cpu1: number;
  qps32: number;
  cpu32: number;
  rowsPerSecond: number;
  cpuPerKRows: number;
  rssIdle: number;
  rssAfterRows: number;
  peak: number;
}

async function measure(server: Running): Promise<Result> {
  const options = { host: "127.0.0.1", port: server.port, user: "root", database: "test" };
  const one = await mysql.createConnection(options);
  for (let i = 0; i < 200; i++) await one.query("SELECT 1"); // warm-up
  const rssIdle = memory(server.pid).rss;
  let cpu = cpuMs(server.pid);
  let t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS_1; i++) await one.query("SELECT 1");
  const qps1 = ROUND_TRIPS_1 / ((performance.now() - t0) / 1000);
  const cpu1 = (cpuMs(server.pid) - cpu) / ROUND_TRIPS_1;
  await one.end();

  const many = await Promise.all(Array.from({ length: 32 }, () => mysql.createConnection(options)));
  for (const conn of many) await conn.query("SELECT 1");
  cpu = cpuMs(server.pid);
  t0 = performance.now();
  const each = ROUND_TRIPS_32 / 32;
  await Promise.all(many.map(async (conn) => {
    for (let i = 0; i < each; i++) await conn.query("SELECT 1");
  }));
  const qps32 = ROUND_TRIPS_32 / ((performance.now() - t0) / 1000);
  const cpu32 = (cpuMs(server.pid) - cpu) / ROUND_TRIPS_32;
  await Promise.all(many.map((conn) => conn.end()));

  const streaming = createConnection(options);
  cpu = cpuMs(server.pid);
  t0 = performance.now();
  let rows = 0;
  const stream = streaming.query(`SELECT seq FROM seq_1_to_${ROWS}`).stream();
  for await (const _row of stream as AsyncIterable<unknown>) rows++;
  if (rows !== ROWS) throw new Error(`${server.name}: ${rows} rows of ${ROWS}`);
  const rowsPerSecond = ROWS / ((performance.now() - t0) / 1000);
  const cpuPerKRows = (cpuMs(server.pid) - cpu) / (ROWS / 1000);
  const after = memory(server.pid);
  await new Promise<void>((resolve) => streaming.end(() => resolve()));
  return {
    name: server.name,
    qps1,
    cpu1,
    qps32,
    cpu32,
    rowsPerSecond,
    cpuPerKRows,
    rssIdle,
    rssAfterRows: after.rss,
    peak: after.peak,
  };
}

const starters: [string, () => Promise<Running | undefined>][] = [
  ["MariaDB", startMariadb],
  [
    "Wireframe (Deno)",
    () =>
      startListening("Wireframe (Deno)", bin("deno"), [
        "run",
        "-A",
        "examples/mysql/server.ts",
        "--port",
        "0",
      ]),
  ],
  [
    "Wireframe (Bun)",
    () =>
      startListening("Wireframe (Bun)", bin("bun"), ["examples/mysql/server.ts", "--port", "0"]),
  ],
  [
    "mysql2 server API (Node)",
    () =>
      startListening("mysql2 server API (Node)", bin("node"), [
        "bench/mysql/mysql2_server.ts",
        "--port",
        "0",
      ]),
  ],
];

const results: Result[] = [];
for (const [name, start] of starters) {
  const server = await start();
  if (server === undefined) {
    process.stderr.write(`${name}: not installed, skipped\n`);
    continue;
  }
  try {
    results.push(await measure(server));
    process.stderr.write(`${name}: done\n`);
  } finally {
    await server.stop();
  }
}

const base = results.find((r) => r.name.startsWith("MariaDB"));
const ratio = (value: number, of: number | undefined) =>
  of === undefined ? "" : ` (${(value / of).toFixed(2)}×)`;
const f0 = (n: number) => Math.round(n).toLocaleString("en-US");
const f3 = (n: number) => n.toFixed(3);
console.log(
  `| server | SELECT 1/s, 1 conn | CPU ms/query | SELECT 1/s, 32 conns | CPU ms/query | rows/s (1M seq) | CPU ms/1k rows | RSS idle MiB | RSS after rows | peak RSS |`,
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.name} | ${f0(r.qps1)}${ratio(r.qps1, base?.qps1)} | ${f3(r.cpu1)} | ${f0(r.qps32)}${
      ratio(r.qps32, base?.qps32)
    } | ${f3(r.cpu32)} | ${f0(r.rowsPerSecond)}${ratio(r.rowsPerSecond, base?.rowsPerSecond)} | ${
      f3(r.cpuPerKRows)
    } | ${r.rssIdle.toFixed(0)} | ${r.rssAfterRows.toFixed(0)} | ${r.peak.toFixed(0)} |`,
  );
}
process.exit(0);
