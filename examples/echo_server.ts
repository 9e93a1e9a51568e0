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
import { type Context, WireframeApp, WireframeError, WireframeServer } from "@wireframe/wireframe";
import { readU32, runExampleServer, u32 } from "./_cli.ts";
import { isMain } from "./_main.ts";

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
      return countTo(readU32(request.payload), ctx);
    });
}

async function* countTo(n: number, ctx: Context): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n && !ctx.signal.aborted; i++) yield u32(i);
}

/** Start the echo server; resolves with the server once it is listening. */
export async function startEchoServer(
  options: { hostname?: string; port?: number } = {},
): Promise<WireframeServer> {
  const server = new WireframeServer(echoApp());
  await server.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 7878 });
  return server;
}

if (isMain(import.meta)) await runExampleServer(7878, () => new WireframeServer(echoApp()));
