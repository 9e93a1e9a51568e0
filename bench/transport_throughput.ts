/**
 * Transport throughput: bytes/s through the in-memory transport, the
 * runtime's TCP transport (WHATWG streams wrapper) and the raw runtime socket
 * (no streams) on loopback. One writer sends TOTAL bytes in CHUNK writes, one
 * reader counts them; best of RUNS. Prints markdown table rows.
 *
 *   deno run -A bench/transport_throughput.ts [MiB] [runs]
 *   bun bench/transport_throughput.ts [MiB] [runs]
 */
import { readFileSync } from "node:fs";
import { bunApi, type BunSocket } from "../src/transport/_bun_api.ts";
import { memoryPair } from "../src/transport/memory.ts";
import { runtimeTransport } from "../src/transport/runtime.ts";
import type { Connection } from "../src/transport/types.ts";

const MiB = 1024 * 1024;
const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const TOTAL = Number(args[0] ?? 1024) * MiB;
const CHUNK = 64 * 1024;
const RUNS = Number(args[1] ?? 5);
const HOST = "127.0.0.1";
const isDeno = "Deno" in globalThis;

/** Time (ms) to push TOTAL bytes from `client` to `server` through the streams. */
async function viaStreams(client: Connection, server: Connection): Promise<number> {
  const chunk = new Uint8Array(CHUNK);
  const start = performance.now();
  const reading = (async () => {
    let n = 0;
    const reader = server.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.byteLength;
    return n;
  })();
  const writer = client.writable.getWriter();
  for (let sent = 0; sent < TOTAL; sent += CHUNK) await writer.write(chunk);
  await writer.close();
  const received = await reading;
  const ms = performance.now() - start;
  if (received !== TOTAL) throw new Error(`received ${received} of ${TOTAL} bytes`);
  client.close();
  server.close();
  return ms;
}

async function memoryCase(bufferSize: number): Promise<number> {
  const [client, server] = memoryPair({ bufferSize });
  return await viaStreams(client, server);
}

async function tcpCase(): Promise<number> {
  const transport = await runtimeTransport();
  const listener = await transport.listen({ port: 0 });
  const it = listener[Symbol.asyncIterator]();
  const client = await transport.connect({ port: listener.addr.port });
  const next = await it.next();
  await listener.close();
  if (next.done) throw new Error("listener ended");
  return await viaStreams(client, next.value);
}

/**
 * `fresh`: allocate a new buffer per read, as anything that hands chunks to
 * a consumer must; the plain raw loop reuses one buffer, which stays in cache.
 */
async function rawDenoCase(fresh = false): Promise<number> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const connecting = Deno.connect({ hostname: HOST, port: listener.addr.port });
  const server = await listener.accept();
  const client = await connecting;
  listener.close();
  client.setNoDelay(true);
  server.setNoDelay(true);
  const chunk = new Uint8Array(CHUNK);
  const start = performance.now();
  const reading = (async () => {
    let buf = new Uint8Array(CHUNK);
    let n = 0;
    for (let r = await server.read(buf); r !== null; r = await server.read(buf)) {
      n += r;
      if (fresh) buf = new Uint8Array(CHUNK);
    }
    return n;
  })();
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    for (let off = 0; off < CHUNK;) off += await client.write(chunk.subarray(off));
  }
  await client.closeWrite();
  const received = await reading;
  const ms = performance.now() - start;
  if (received !== TOTAL) throw new Error(`received ${received} of ${TOTAL} bytes`);
  client.close();
  server.close();
  return ms;
}

async function rawBunCase(): Promise<number> {
  const bun = bunApi();
  let received = 0;
  const { promise: done, resolve: finish } = Promise.withResolvers<void>();
  const server = bun.listen<undefined>({
    hostname: HOST,
    port: 0,
    socket: {
      data(_socket, data) {
        received += data.byteLength;
        if (received >= TOTAL) finish();
      },
    },
  });
  let wake: (() => void) | undefined;
  const client: BunSocket<undefined> = await bun.connect<undefined>({
    hostname: HOST,
    port: server.port,
    socket: { data() {}, drain: () => wake?.() },
  });
  client.setNoDelay?.(true);
  const chunk = new Uint8Array(CHUNK);
  const start = performance.now();
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    for (let off = 0; off < CHUNK;) {
      const n = client.write(chunk, off, CHUNK - off);
      if (n < 0) throw new Error("socket closed");
      off += n;
      if (off < CHUNK) await new Promise<void>((resolve) => wake = resolve);
    }
  }
  await done;
  const ms = performance.now() - start;
  client.close();
  server.stop(true);
  return ms;
}

async function best(run: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) min = Math.min(min, await run());
  return min;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) =>
      l.startsWith("model name")
    );
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

const version = isDeno
  ? `deno ${Deno.version.deno}`
  : `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`;
const runtime = isDeno ? "deno" : "bun";
console.log(
  `# ${version}, ${navigator.hardwareConcurrency} CPUs (${cpuModel()}); ` +
    `${TOTAL / MiB} MiB in ${CHUNK / 1024} KiB writes, best of ${RUNS}`,
);
console.log("| runtime | case | best (ms) | MiB/s | vs raw socket |");
console.log("| --- | --- | ---: | ---: | ---: |");
const raw = await best(isDeno ? () => rawDenoCase() : rawBunCase);
const cases: Array<[string, number]> = [
  ["raw socket (no streams)", raw],
  ...(isDeno
    ? [["raw socket, new buffer per read", await best(() => rawDenoCase(true))] as [string, number]]
    : []),
  ["tcp transport (streams)", await best(tcpCase)],
  ["memory, bufferSize 64 KiB", await best(() => memoryCase(64 * 1024))],
  ["memory, bufferSize 1 MiB", await best(() => memoryCase(MiB))],
];
for (const [name, ms] of cases) {
  const rate = (TOTAL / MiB) / (ms / 1000);
  console.log(
    `| ${runtime} | ${name} | ${ms.toFixed(0)} | ${rate.toFixed(0)} | ${(raw / ms).toFixed(2)}× |`,
  );
}
