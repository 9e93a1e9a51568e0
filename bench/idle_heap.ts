/**
 * Where an idle connection's memory goes: the echo server (examples/
 * echo_server.ts) runs in this process, a Node client process opens N
 * connections that each do one echo, and the server's memory is compared
 * before and after, after forced GCs. Prints, per connection: RSS, JS heap
 * used, heap total (used plus the room V8 has grown but not given back) and
 * external (ArrayBuffer backing stores: the read buffers). With `--snapshot`
 * (Deno: V8 heap snapshots) it also diffs two heap snapshots and prints the
 * self size per constructor and the closures per source line, per connection.
 *
 * Usage (from the repo root):
 *   deno run -A --v8-flags=--expose-gc bench/idle_heap.ts [N=3000] [--snapshot]
 *   bun bench/idle_heap.ts [N=3000]
 *
 * V8 grows its young generation during a burst of connections (semi-space up
 * to 16 MiB, 48 MiB in all) and keeps it: at 3,000 connections that is ~14 KiB
 * of "per connection" RSS that no connection holds. To see what connections
 * really hold, add `--max-semi-space-size=1` to the V8 flags, or use a larger N.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import v8 from "node:v8";
import { startEchoServer } from "../examples/echo_server.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 3000);
const snapshot = args.includes("--snapshot");
const gc = (globalThis as { gc?: (full?: boolean) => void }).gc ??
  (globalThis as { Bun?: { gc: (full: boolean) => void } }).Bun?.gc;
if (!gc) throw new Error("no gc(): run Deno with --v8-flags=--expose-gc");
const collect = gc;

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 5; i++) {
    collect(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage();
}

/** Count and self size per constructor, and closures per source line, of one snapshot. */
function summarize(file: string): { byName: Map<string, number[]>; closures: Map<string, number> } {
  const s = JSON.parse(readFileSync(file, "utf8"));
  const meta = s.snapshot.meta;
  const fields: string[] = meta.node_fields;
  const width = fields.length;
  const types: string[] = meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const byName = new Map<string, number[]>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt!]]!;
    const name = type === "object" || type === "native"
      ? s.strings[s.nodes[i + nameAt!]]
      : type === "closure"
      ? "(closure)"
      : `(${type})`;
    const entry = byName.get(name) ?? [0, 0];
    entry[0]! += 1;
    entry[1]! += s.nodes[i + sizeAt!];
    byName.set(name, entry);
  }
  // locations: object_index, script_id, script_object_index, line, column
  const closures = new Map<string, number>();
  const step = meta.location_fields.length;
  for (let i = 0; i < s.locations.length; i += step) {
    const script = String(s.strings[s.nodes[s.locations[i + 2] + nameAt!]]);
    const key = `${script.split("/").slice(-2).join("/")}:${s.locations[i + 3] + 1}`;
    closures.set(key, (closures.get(key) ?? 0) + 1);
  }
  return { byName, closures };
}

const server = await startEchoServer({ port: 0 });
const before = await settle();
if (snapshot) v8.writeHeapSnapshot("/tmp/idle_heap_a.heapsnapshot");
const client = spawn("node", [
  new URL("./_idle_heap_client.mjs", import.meta.url).pathname,
  String(server.addr.port),
  String(count),
], {
  stdio: ["pipe", "pipe", "inherit"],
});
await new Promise<void>((resolve) =>
  client.stdout!.on("data", (d) => String(d).includes("ready") && resolve())
);
await new Promise((resolve) => setTimeout(resolve, 1000));
const after = await settle();
const per = (key: keyof NodeJS.MemoryUsage) =>
  ((after[key] - before[key]) / 1024 / count).toFixed(2);
console.log(
  `${count} idle connections, KiB each: rss ${per("rss")}, heapUsed ${per("heapUsed")}, ` +
    `heapTotal ${per("heapTotal")}, external ${per("external")}`,
);
if (snapshot) {
  v8.writeHeapSnapshot("/tmp/idle_heap_b.heapsnapshot");
  const a = summarize("/tmp/idle_heap_a.heapsnapshot");
  const b = summarize("/tmp/idle_heap_b.heapsnapshot");
  const rows = [...b.byName].map(([name, [n, size]]) => {
    const [n0, size0] = a.byName.get(name) ?? [0, 0];
    return { name, n: (n! - n0!) / count, bytes: (size! - size0!) / count };
  }).filter((r) => r.bytes > 0).sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`heap snapshot: ${total.toFixed(0)} B per connection (self sizes)`);
  for (const r of rows.slice(0, 40)) {
    console.log(
      `${r.bytes.toFixed(0).padStart(6)} B ${r.n.toFixed(2).padStart(6)}×  ${r.name.slice(0, 70)}`,
    );
  }
  console.log("closures per connection, by source line:");
  const lines = [...b.closures].map(([k, n]) =>
    [k, (n - (a.closures.get(k) ?? 0)) / count] as const
  )
    .filter(([, n]) => n >= 0.5).sort((x, y) => y[1] - x[1]);
  for (const [k, n] of lines) console.log(`${n.toFixed(2).padStart(6)}  ${k}`);
}
client.stdin!.end();
await new Promise((resolve) => client.on("exit", resolve));
await server.shutdown();
process.exit(0);
