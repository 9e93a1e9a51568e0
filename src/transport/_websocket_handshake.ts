/**
 * What a WebSocket server answers an HTTP request with, before the runtime
 * upgrades it: the path, the upgrade headers and the subprotocol are checked
 * here, the same way for every runtime.
 *
 * @module
 */
import type { WebSocketSettings } from "./_websocket_options.ts";

/** Upgrade, with this subprotocol (`undefined`: none), or refuse with a status. */
export type HandshakeDecision =
  | { readonly upgrade: true; readonly protocol: string | undefined }
  | { readonly upgrade: false; readonly status: number; readonly message: string };

/** The request line and headers the decision needs. */
export interface HandshakeRequest {
  readonly method: string;
  readonly url: string;
  /** A header's value, or `null`/`undefined` when absent. */
  header(name: string): string | null | undefined;
}

/** Check an upgrade request against the transport's path and subprotocols. */
export function decideHandshake(
  request: HandshakeRequest,
  settings: WebSocketSettings,
): HandshakeDecision {
  const path = new URL(request.url, "http://localhost").pathname;
  if (path !== settings.path) return refuse(404, `no WebSocket endpoint at ${path}`);
  const upgrade = request.header("upgrade") ?? "";
  if (request.method !== "GET" || upgrade.toLowerCase() !== "websocket") {
    return refuse(426, "this endpoint speaks WebSocket only");
  }
  const offered = (request.header("sec-websocket-protocol") ?? "").split(",")
    .map((name) => name.trim()).filter((name) => name !== "");
  if (offered.length === 0) return { upgrade: true, protocol: undefined };
  const protocol = settings.protocols.find((name) => offered.includes(name));
  if (protocol === undefined) {
    return refuse(400, `no common subprotocol (offered ${offered.join(", ")})`);
  }
  return { upgrade: true, protocol };
}

function refuse(status: number, message: string): HandshakeDecision {
  return { upgrade: false, status, message };
}

/** The HTTP response of a refused handshake. */
export function refusal(decision: { status: number; message: string }): Response {
  return new Response(`${decision.message}\n`, {
    status: decision.status,
    headers: decision.status === 426 ? { upgrade: "websocket" } : {},
  });
}
