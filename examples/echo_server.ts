/**
 * A small echo server in the default wire format (DESIGN.md §5).
 *
 * - id 1 echoes the payload (same id, same correlation id);
 * - id 2 takes a u32 BE count `n` and streams `n` frames whose payloads are
 *   u32 BE 0…n-1, from an async generator.
 *
 * Run: `deno run --allow-net examples/echo_server.ts --port 0`
 *  or: `bun examples/echo_server.ts --port 0`
 * Prints `listening on HOST:PORT` once ready; SIGINT/SIGTERM shut down
 * gracefully and exit 0.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { type Context, WireframeApp, WireframeError, WireframeServer } from "../mod.ts";

/** Message ids of the echo protocol. */
export const ECHO = 1;
/** Streams a count; see the module doc. */
export const COUNT = 2;

/** The echo application, shared by the server below, the tests and the benchmarks. */
export function echoApp(): WireframeApp {
  return new WireframeApp()
    .route(ECHO, (request) => request.payload)
    .route(COUNT, (request, ctx) => {
      if (request.payload.length !== 4) {
        throw WireframeError.protocol("bad-count", "id 2 expects a u32 BE count");
      }
      return countTo(
        new DataView(request.payload.buffer, request.payload.byteOffset).getUint32(0),
        ctx,
      );
    });
}

async function* countTo(n: number, ctx: Context): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n && !ctx.signal.aborted; i++) {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, i);
    yield payload;
  }
}

/** Start the echo server; resolves with the server once it is listening. */
export async function startEchoServer(
  options: { hostname?: string; port?: number } = {},
): Promise<WireframeServer> {
  const server = new WireframeServer(echoApp());
  await server.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 7878 });
  return server;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "7878" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`--port must be an integer from 0 to 65535 (got ${values.port})\n`);
    process.exit(2);
  }
  const server = await startEchoServer({ hostname: values.hostname, port });
  const { hostname, port: bound } = server.addr;
  process.stdout.write(`listening on ${hostname}:${bound}\n`);
  const stop = async () => {
    await server.shutdown({ timeoutMs: 5_000 });
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
