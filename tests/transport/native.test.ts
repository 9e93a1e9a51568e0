/**
 * Conformance of the running runtime's TCP transport: `deno test` covers
 * src/transport/deno.ts, `bun test` src/transport/bun.ts and Node's test
 * runner src/transport/node.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import { conformance } from "./_conformance.ts";
import { accept, acceptUntilData, pattern, writeAndClose } from "./_util.ts";

const transport = await runtimeTransport();
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const modules = {
  deno: async () => (await import("../../src/transport/deno.ts")).denoTransport,
  bun: async () => (await import("../../src/transport/bun.ts")).bunTransport,
  node: async () => (await import("../../src/transport/node.ts")).nodeTransport,
};

conformance(`${runtime} tcp`, transport, {
  addrTransport: "tcp",
  // Loopback kernel buffers (send + receive, autotuned) hold several MiB.
  maxInFlight: 32 * 1024 * 1024,
});

test(`${runtime} tcp: runtimeTransport() picks this runtime's module`, async () => {
  assert.equal(transport, await modules[runtime]());
});

test(`${runtime} tcp: a peer that resets before accept does not stop the accept loop`, async () => {
  const listener = await transport.listen({ port: 0 });
  try {
    // Complete the handshake, then send RST while the connection still sits
    // in the accept backlog (Deno's accept() then fails with NotConnected).
    const doomed = net.connect({ host: "127.0.0.1", port: listener.addr.port });
    await new Promise<void>((resolve, reject) => {
      doomed.once("connect", resolve);
      doomed.once("error", reject);
    });
    const closed = new Promise((resolve) => doomed.once("close", resolve));
    doomed.resetAndDestroy();
    await closed;
    const healthy = await transport.connect({ port: listener.addr.port });
    await writeAndClose(healthy, pattern(0, 64, 9));
    await acceptUntilData(listener[Symbol.asyncIterator](), pattern(0, 64, 9));
    healthy.close();
  } finally {
    await listener.close();
  }
});

test(`${runtime} tcp: readable chunks are plain Uint8Arrays`, async () => {
  const listener = await transport.listen({ port: 0 });
  const it = listener[Symbol.asyncIterator]();
  const client = await transport.connect({ port: listener.addr.port });
  const server = await accept(it);
  try {
    await writeAndClose(client, pattern(0, 100));
    const { value } = await server.readable.getReader().read();
    assert.ok(value !== undefined);
    assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
  } finally {
    client.close();
    server.close();
    await listener.close();
  }
});
