/** The shared helpers, bound to the in-memory transport (no sockets). */
import type { WireframeApp } from "../../src/app/app.ts";
import { type ClientOptions, WireframeClient } from "../../src/client/client.ts";
import type { ServerOptions } from "../../src/server/server.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { RawClient, type Running, serve } from "../e2e/_helpers.ts";

/** Start `app` on the memory transport. */
export function serveMemory<S>(
  app: WireframeApp<S>,
  options: Omit<ServerOptions, "transport"> = {},
): Promise<Running<S>> {
  return serve(app, { ...options, transport: memoryTransport });
}

/** A WireframeClient over the memory transport. */
export function connectClient(
  port: number,
  options: Omit<ClientOptions, "port" | "transport"> = {},
): Promise<WireframeClient> {
  return WireframeClient.connect({ ...options, port, transport: memoryTransport });
}

/** A raw byte client over the memory transport. */
export function connectRaw(port: number): Promise<RawClient> {
  return RawClient.connect(port, memoryTransport);
}
