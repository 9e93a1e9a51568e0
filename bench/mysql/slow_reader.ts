/**
 * bench/mysql/slow_reader: a 10,000,000-row `seq_1_to_10000000` from
 * examples/mysql/server.ts to a raw client that stops reading after 1 MB
 * for 3 s, then reads to the end. Prints the server's RSS and CPU while the
 * client pauses (CPU must stand still: the generator waits) and while it
 * reads (RSS must stay flat), and the rows/s of the whole.
 *
 * Run: `deno run -A bench/mysql/slow_reader.ts [--runtime bun]` (Linux: /proc).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";

const ROWS = 10_000_000;
const root = fileURLToPath(new URL("../../", import.meta.url));
const runtime = process.argv.includes("bun") ? "bun" : "deno";
const args = runtime === "bun"
  ? ["examples/mysql/server.ts", "--port", "0"]
  : ["run", "-A", "examples/mysql/server.ts", "--port", "0"];
const child = spawn(join(root, "node_modules", ".bin", runtime), args, {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve) => {
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk;
    const match = /listening on [^:]+:(\d+)/.exec(out);
    if (match) resolve(Number(match[1]));
  });
});
const pid = child.pid!;
const rss = () =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024);
const cpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const packet = (seq: number, payload: Buffer) =>
  Buffer.concat([
    Buffer.from([payload.length & 255, (payload.length >> 8) & 255, payload.length >> 16, seq]),
    payload,
  ]);

const socket = connect(port, "127.0.0.1");
let bytes = 0;
let rows = 0;
let pending: Buffer = Buffer.alloc(0);
const ended = Promise.withResolvers<void>();
const paused = Promise.withResolvers<void>();
/** Count the rows of the result: packets after the column count and definition, up to the 0xFE OK. */
function parse(chunk: Buffer): void {
  pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  let at = 0;
  while (pending.length - at >= 4) {
    const length = pending[at]! | (pending[at + 1]! << 8) | (pending[at + 2]! << 16);
    if (pending.length - at < 4 + length) break;
    const first = pending[at + 4];
    if (first === 0xfe && length < 9) ended.resolve();
    else rows++;
    at += 4 + length;
  }
  pending = pending.subarray(at);
}
socket.once("data", () => { // the greeting: log in without a password
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(0x200 | 0x8000 | 0x80000 | 0x1000000, 0); // 4.1, secure, plugin, no EOF
  fixed.writeUInt32LE(1 << 24, 4);
  fixed[8] = 45;
  const login = [
    fixed,
    Buffer.from("root\0"),
    Buffer.from([0]),
    Buffer.from("mysql_native_password\0"),
  ];
  socket.write(packet(1, Buffer.concat(login)));
  socket.once("data", () => {
    socket.write(packet(0, Buffer.from(`\x03SELECT seq FROM seq_1_to_${ROWS}`)));
    socket.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      parse(chunk);
      if (bytes > 1e6) paused.resolve();
    });
  });
});

await paused.promise;
socket.pause();
await sleep(1_000); // let the socket buffers fill: then the server has to wait
const t0 = performance.now();
console.log(`paused after ${bytes} bytes: server RSS ${rss()} MiB, CPU ${cpu()} ms`);
for (let i = 1; i <= 3; i++) {
  await sleep(1_000);
  console.log(`  paused ${i} s: RSS ${rss()} MiB, CPU ${cpu()} ms`);
}
socket.resume();
const samples: number[] = [];
const sampler = setInterval(() => samples.push(rss()), 500);
await ended.promise;
clearInterval(sampler);
const seconds = (performance.now() - t0) / 1000 - 4;
rows -= 2; // the column count and the column definition
if (rows !== ROWS) throw new Error(`${rows} rows of ${ROWS}`);
console.log(
  `read ${rows} rows (${bytes} bytes); RSS while reading ${Math.min(...samples)}–${
    Math.max(...samples)
  } MiB; ${Math.round(ROWS / seconds).toLocaleString("en-US")} rows/s after the pause`,
);
socket.destroy();
child.kill("SIGTERM");
