/**
 * bench/abuse's slow-consumer server: `examples/push_server.ts` with a 5 s
 * drain timeout (the guard's other defaults: 256 KiB high, 64 KiB low water
 * mark), and id 20 `stats`, which replies u32 BE `slowConsumers` then u32 BE
 * `connectionsActive`, so the bench sees when the stalled subscribers are
 * closed.
 *
 * Run: `deno run -A bench/abuse/slow_consumer_server.ts --port 0` (or bun).
 *
 * @module
 */
import { WireframeServer } from "@wireframe/wireframe";
import { runExampleServer, u32 } from "../../examples/_cli.ts";
import { pushApp } from "../../examples/push_server.ts";
import { isMain } from "../../examples/_main.ts";

/** Ask for the counters. */
export const STATS = 20;
/** The drain timeout this server runs with. */
export const DRAIN_TIMEOUT_MS = 5_000;

if (isMain(import.meta)) {
  await runExampleServer(0, () => {
    const server: WireframeServer = new WireframeServer(
      pushApp()
        .outbound({ drainTimeoutMs: DRAIN_TIMEOUT_MS })
        .route(STATS, () => {
          const stats = server.stats();
          const reply = new Uint8Array(8);
          reply.set(u32(stats.slowConsumers));
          reply.set(u32(stats.connectionsActive), 4);
          return reply;
        }),
    );
    return server;
  });
}
