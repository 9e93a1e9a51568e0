/**
 * A push server in the default wire format (DESIGN.md §5):
 *
 * - id 10 `subscribe`, payload u32 BE `intervalMs`: replies id 10 (same
 *   correlation id, empty payload), then pushes low-priority ticks id 11 (no
 *   correlation id, payload u32 BE 0, 1, 2, …) every `intervalMs` until the
 *   connection ends;
 * - id 12 `broadcast`, payload bytes: pushes them as a high-priority frame
 *   id 13 (no correlation id) to every live connection, the sender included,
 *   with the `drop-if-full` policy (so a connection that stopped reading
 *   cannot slow the others down), then replies id 12 (same correlation id)
 *   with u32 BE = the number of connections it was queued for;
 * - id 1 echoes, as in `echo_server.ts`.
 *
 * Run: `deno run --allow-net examples/push_server.ts --port 0`
 *  or: `bun examples/push_server.ts --port 0`
 * Prints `listening on HOST:PORT`; SIGINT/SIGTERM shut down gracefully, exit 0.
 *
 * @module
 */
import {
  type Context,
  PushError,
  SessionRegistry,
  WireframeApp,
  WireframeError,
  WireframeServer,
} from "@wireframe/wireframe";
import { readU32, runExampleServer, u32 } from "./_cli.ts";
import { isMain } from "./_main.ts";

/** Echo. */
export const ECHO = 1;
/** Subscribe to ticks; payload u32 BE interval in ms. */
export const SUBSCRIBE = 10;
/** A tick push; payload u32 BE sequence number. */
export const TICK = 11;
/** Broadcast a payload to every connection. */
export const BROADCAST = 12;
/** A broadcast push; payload as sent. */
export const BROADCASTED = 13;

/** The push application; `sessions` lets other code reach its connections. */
export function pushApp(sessions: SessionRegistry = new SessionRegistry()): WireframeApp {
  return new WireframeApp()
    .sessions(sessions)
    .route(ECHO, (request) => request.payload)
    .route(SUBSCRIBE, async function* (request, ctx) {
      if (request.payload.length !== 4) {
        throw WireframeError.protocol("bad-interval", "id 10 expects a u32 BE interval");
      }
      yield new Uint8Array(0);
      // The generator resumes only once the reply was handed to the writer, so
      // no tick (which outranks responses) can overtake it.
      void tick(ctx, readU32(request.payload));
    })
    .route(BROADCAST, async (request) => {
      const queued = await sessions.broadcast(
        { id: BROADCASTED, payload: request.payload },
        { priority: "high", policy: "drop-if-full" },
      );
      return u32(queued);
    });
}

/** Push ticks until the connection ends; a slow reader slows its own ticks (push waits). */
async function tick(ctx: Context, intervalMs: number): Promise<void> {
  const { signal } = ctx;
  for (let seq = 0; !signal.aborted; seq++) {
    try {
      await sleep(intervalMs, signal);
      await ctx.push.push({ id: TICK, payload: u32(seq) }, { priority: "low", signal });
    } catch (error) {
      if (signal.aborted || (error instanceof PushError && error.reason === "closed")) return;
      throw error;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

if (isMain(import.meta)) await runExampleServer(7879, () => new WireframeServer(pushApp()));
