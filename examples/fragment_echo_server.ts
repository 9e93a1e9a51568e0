/**
 * An echo server whose messages travel in fragments:
 *
 * - frames: the default 4-byte big-endian length prefix, at most 8192 bytes
 *   of body per frame;
 * - inside each frame, one `LenFlag32K` fragment: a 2-byte header (top bit =
 *   final, low 15 bits = payload length), then the fragment payload;
 * - the re-assembled message is a default envelope (DESIGN.md §5);
 * - id 1 echoes the payload; the response is fragmented the same way.
 *
 * Limits: messages up to 16 MiB, a per-connection re-assembly budget of
 * 32 MiB, and a re-assembly timeout from `--reassembly-timeout-ms`
 * (default 30000).
 *
 * Run: `deno run --allow-net examples/fragment_echo_server.ts --port 0`
 *  or: `bun examples/fragment_echo_server.ts --port 0`
 * Prints `listening on HOST:PORT`; SIGINT/SIGTERM shut down gracefully, exit 0.
 *
 * @module
 */
import { WireframeApp, WireframeServer } from "@wireframe/wireframe";
import { LenFlag32K, type ReassemblyOptions } from "@wireframe/wireframe/fragment";
import { runExampleServer } from "./_cli.ts";
import { isMain } from "./_main.ts";

/** Largest frame body on the wire. */
export const MAX_FRAME = 8192;
/** A LenFlag32K fragment has a 2-byte header, so this much payload fits one frame. */
export const MAX_FRAGMENT_PAYLOAD = MAX_FRAME - 2;

/** The framing both ends use: 8 KiB frames carrying LenFlag32K fragments. */
export function fragmentFraming(reassemblyTimeoutMs = 30_000): {
  codec: { maxFrameLength: number };
  strategy: LenFlag32K;
  limits: ReassemblyOptions;
} {
  return {
    codec: { maxFrameLength: MAX_FRAME },
    strategy: new LenFlag32K({ maxFragmentPayload: MAX_FRAGMENT_PAYLOAD }),
    limits: {
      maxMessageSize: 16 * 1024 * 1024,
      maxBufferedBytes: 32 * 1024 * 1024,
      reassemblyTimeoutMs,
    },
  };
}

/** The fragmenting echo application. */
export function fragmentEchoApp(reassemblyTimeoutMs = 30_000): WireframeApp {
  const { codec, strategy, limits } = fragmentFraming(reassemblyTimeoutMs);
  return new WireframeApp()
    .codec(codec)
    .fragmentation(strategy, limits)
    .route(1, (request) => request.payload);
}

if (isMain(import.meta)) {
  await runExampleServer(7880, ({ "reassembly-timeout-ms": timeout }) => {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || ms < 1) {
      throw new RangeError(`--reassembly-timeout-ms must be a positive integer (got ${timeout})`);
    }
    return new WireframeServer(fragmentEchoApp(ms));
  }, { "reassembly-timeout-ms": "30000" });
}
