/**
 * One node of a cluster of push servers (issue 18): run it several times —
 * on one machine or many — against the same Redis, and a broadcast or a
 * push sent to any node reaches connections on every node.
 *
 * Requests, in the default wire format (DESIGN.md §5):
 * - id 1 `whoami`: replies with this connection's cluster-wide id (`NODE:N`, UTF-8);
 * - id 2 `broadcast`, payload bytes: pushes them as id 100 to every
 *   connection of every node (`drop-if-full`), replies u32 BE = the
 *   connections of this node reached, then `remote` or `local-only`;
 * - id 3 `push`, payload `ID\nTEXT`: pushes TEXT as id 101 to connection
 *   ID on whichever node holds it; replies `queued`, or the error's code
 *   (`ERR_PUSH_CLOSED`... as `closed`, `ERR_CLUSTER_UNAVAILABLE`, ...);
 * - id 4 `list`: replies with the live connection ids of every node that
 *   answered within a second, one per line.
 *
 * Run: `deno run -A examples/cluster/push_node.ts --redis redis://127.0.0.1:6379 --port 7000`
 *  or: `bun examples/cluster/push_node.ts --redis redis://127.0.0.1:6379 --port 7000`
 * Options: `--hostname` (127.0.0.1), `--port` (0: a free one), `--node-id`
 * (random), `--heartbeat-ms` (1000), `--reuse-port` (share the port with
 * other processes, see `examples/cluster/supervisor.ts`).
 * Prints `node ID pid PID` and `listening on HOST:PORT`; SIGTERM/SIGINT shut down
 * gracefully (the node says goodbye to the cluster) and exit 0.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import {
  PushError,
  SessionRegistry,
  WireframeApp,
  WireframeBaseError,
  WireframeServer,
} from "@wireframe/wireframe";
import { type ClusterBus, ClusterRegistry, RedisBus } from "@wireframe/wireframe/cluster";
import { isMain } from "../_main.ts";

/** whoami */
export const WHOAMI = 1;
/** broadcast to every node */
export const BROADCAST = 2;
/** push to one connection anywhere */
export const PUSH = 3;
/** list live connections */
export const LIST = 4;
/** a broadcast push */
export const BROADCASTED = 100;
/** a targeted push */
export const PUSHED = 101;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The node's application, on `bus`. */
export function pushNodeApp(bus: ClusterBus): { app: WireframeApp; registry: ClusterRegistry } {
  const sessions = new SessionRegistry();
  const registry = new ClusterRegistry({ bus, sessions });
  const app = new WireframeApp()
    .sessions(sessions)
    .route(WHOAMI, (_req, ctx) => encoder.encode(registry.idOf(ctx.connectionId)))
    .route(BROADCAST, async (req) => {
      const result = await registry.broadcast({ id: BROADCASTED, payload: req.payload.slice() }, {
        policy: "drop-if-full",
      });
      const reply = new Uint8Array(4);
      new DataView(reply.buffer).setUint32(0, result.local);
      const tail = encoder.encode(result.remote === "published" ? "remote" : "local-only");
      const out = new Uint8Array(4 + tail.length);
      out.set(reply);
      out.set(tail, 4);
      return out;
    })
    .route(PUSH, async (req) => {
      const [target = "", text = ""] = decoder.decode(req.payload).split("\n");
      try {
        await registry.push(target, { id: PUSHED, payload: encoder.encode(text) }, {
          policy: "drop-if-full",
        });
        return encoder.encode("queued");
      } catch (error) {
        if (error instanceof PushError) return encoder.encode(error.reason);
        if (error instanceof WireframeBaseError) return encoder.encode(error.code);
        throw error;
      }
    })
    .route(LIST, async () => encoder.encode((await registry.list()).ids.sort().join("\n")));
  return { app, registry };
}

if (isMain(import.meta)) {
  // Signals first: a SIGTERM that comes before the server is up still exits cleanly.
  let stop: () => void | Promise<void> = () => process.exit(0);
  let stopping = false;
  const onSignal = () => {
    if (stopping) return; // a second signal (e.g. to the whole process group) changes nothing
    stopping = true;
    void stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      redis: { type: "string", default: "redis://127.0.0.1:6379" },
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      "node-id": { type: "string" },
      "heartbeat-ms": { type: "string", default: "1000" },
      "reuse-port": { type: "boolean", default: false },
    },
  });
  const bus = await RedisBus.connect({
    url: values.redis,
    heartbeatMs: Number(values["heartbeat-ms"]),
    ...(values["node-id"] ? { nodeId: values["node-id"] } : {}),
  });
  const { app, registry } = pushNodeApp(bus);
  const server = new WireframeServer(app);
  const listenOptions = { hostname: values.hostname, port: Number(values.port) };
  const addr = await server.listen(
    values["reuse-port"] ? { ...listenOptions, reusePort: true } : listenOptions,
  );
  process.stdout.write(
    `node ${bus.nodeId} pid ${process.pid}\nlistening on ${addr.hostname}:${addr.port}\n`,
  );
  stop = async () => {
    await server.shutdown({ timeoutMs: 5_000 });
    registry.close();
    await bus.close();
    process.exit(0);
  };
}
