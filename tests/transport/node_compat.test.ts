/**
 * The Node.js transport (src/transport/node.ts) on the `node:net` of Deno and
 * Bun: it only needs `node:net`, so an app that picks it by hand runs on all
 * three runtimes. On Node itself it is the runtime's own transport, and
 * native.test.ts runs the same conformance suite there.
 */
import { test } from "node:test";
import { nodeTransport } from "../../src/transport/node.ts";
import { conformance } from "./_conformance.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : undefined;

if (runtime === undefined) {
  test("node:net transport on another runtime's node:net", {
    skip: "on Node.js this is the runtime's own transport: tests/transport/native.test.ts runs it",
  }, () => {});
} else {
  conformance(`node:net transport on ${runtime}`, nodeTransport, {
    addrTransport: "tcp",
    // Loopback kernel buffers (send + receive, autotuned) hold several MiB.
    maxInFlight: 32 * 1024 * 1024,
  });
}
