/**
 * The limit for bench/echo: a hand-written echo server on the runtime's own
 * socket API, in the same wire format as examples/echo_server.ts (id 1 only).
 * It parses the length prefix, and writes every complete frame of a read back
 * in one write (an id-1 response is byte-for-byte the request). No streams,
 * no routing, no allocation beyond what the socket API needs.
 *
 * Run: `deno run -A bench/echo/raw_server.ts --port 0`, `bun bench/echo/raw_server.ts --port 0`
 * or `node bench/echo/raw_server.ts --port 0`.
 *
 * @module
 */
import net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    hostname: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
  },
});
const hostname = values.hostname;
const port = Number(values.port);

/** Length of the complete frames at the start of `data`. */
function completeFrames(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  while (offset + 4 <= data.length) {
    const end = offset + 4 + view.getUint32(offset);
    if (end > data.length) break;
    offset = end;
  }
  return offset;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

interface BunSocket {
  data: { leftover: Uint8Array; backlog: Uint8Array };
  write(data: Uint8Array): number;
  setNoDelay?(noDelay: boolean): boolean;
}
interface BunLike {
  listen(options: unknown): { hostname: string; port: number };
}

if ("Deno" in globalThis) {
  const listener = Deno.listen({ hostname, port });
  process.stdout.write(`listening on ${listener.addr.hostname}:${listener.addr.port}\n`);
  for await (const conn of listener) {
    serveDeno(conn).catch(() => {}).finally(() => conn.close());
  }
} else if ("Bun" in globalThis) {
  const Bun = (globalThis as unknown as { Bun: BunLike }).Bun;
  const flush = (socket: BunSocket) => {
    const { backlog } = socket.data;
    if (backlog.length === 0) return;
    const written = socket.write(backlog);
    socket.data.backlog = backlog.subarray(Math.max(written, 0));
  };
  const server = Bun.listen({
    hostname,
    port,
    socket: {
      open(socket: BunSocket) {
        socket.data = { leftover: new Uint8Array(0), backlog: new Uint8Array(0) };
        socket.setNoDelay?.(true);
      },
      data(socket: BunSocket, chunk: Uint8Array) {
        const data = concat(socket.data.leftover, chunk);
        const n = completeFrames(data);
        socket.data.leftover = data.slice(n);
        if (n === 0) return;
        if (socket.data.backlog.length > 0) {
          socket.data.backlog = concat(socket.data.backlog, data.slice(0, n));
          return;
        }
        socket.data.backlog = data.subarray(0, n);
        flush(socket);
        if (socket.data.backlog.length > 0) socket.data.backlog = socket.data.backlog.slice();
      },
      drain: flush,
    },
  });
  process.stdout.write(`listening on ${server.hostname}:${server.port}\n`);
} else {
  // Node.js: node:net, which queues what the kernel does not take at once (so no backlog here).
  const server = net.createServer({ noDelay: true }, (socket) => {
    let leftover: Uint8Array = new Uint8Array(0);
    socket.on("data", (chunk: Uint8Array) => {
      const data = concat(leftover, chunk);
      const n = completeFrames(data);
      leftover = data.slice(n);
      if (n > 0) socket.write(data.subarray(0, n));
    });
    socket.on("error", () => socket.destroy());
  });
  server.listen({ host: hostname, port }, () => {
    const addr = server.address() as net.AddressInfo;
    process.stdout.write(`listening on ${addr.address}:${addr.port}\n`);
  });
}

async function serveDeno(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64 * 1024);
  let leftover: Uint8Array = new Uint8Array(0);
  while (true) {
    const read = await conn.read(buffer);
    if (read === null) return;
    const data = concat(leftover, buffer.subarray(0, read));
    const n = completeFrames(data);
    leftover = data.slice(n);
    let out = data.subarray(0, n);
    while (out.length > 0) out = out.subarray(await conn.write(out));
  }
}
