/** WireframeServer state, options and limits, over the memory transport. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { ConnectionLostError } from "../../src/client/errors.ts";
import { ConfigError } from "../../src/error.ts";
import { type ServerOptions, ServerStateError, WireframeServer } from "../../src/server/server.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { ConnectionRefusedError } from "../../src/transport/errors.ts";
import { captureLogger, str, text, waitFor } from "../e2e/_helpers.ts";
import { connectClient, serveMemory } from "./_memory.ts";

const quiet = () => new WireframeApp().logger(captureLogger().logger).route(1, (r) => r.payload);

test("listen() twice rejects with ServerStateError, and so does listen() after shutdown", async () => {
  const server = new WireframeServer(quiet(), { transport: memoryTransport });
  try {
    await server.listen();
    await assert.rejects(server.listen(), ServerStateError);
  } finally {
    await server.shutdown();
  }
  await assert.rejects(server.listen(), ServerStateError);
});

test("two concurrent listen() calls bind once: one of them rejects", async () => {
  const server = new WireframeServer(quiet(), { transport: memoryTransport });
  try {
    const results = await Promise.allSettled([server.listen(), server.listen()]);
    const rejected = results.filter((r) => r.status === "rejected");
    assert.equal(rejected.length, 1, "exactly one listen() must fail");
    assert.ok((rejected[0] as PromiseRejectedResult).reason instanceof ServerStateError);
  } finally {
    await server.shutdown();
  }
});

test("shutdown() while listen() is in progress leaves nothing listening", async () => {
  const server = new WireframeServer(quiet(), { transport: memoryTransport });
  const listening = server.listen();
  await server.shutdown();
  const [result] = await Promise.allSettled([listening]);
  if (result!.status === "rejected") {
    assert.ok(result!.reason instanceof ServerStateError);
  } else {
    await assert.rejects(
      memoryTransport.connect({ port: result!.value.port }),
      ConnectionRefusedError,
      "a server that was shut down must not accept connections",
    );
  }
});

test("addr throws before listen() and reports the bound port after", async () => {
  const server = new WireframeServer(quiet(), { transport: memoryTransport });
  assert.throws(() => server.addr, ServerStateError);
  try {
    const bound = await server.listen();
    assert.ok(bound.port > 0);
    assert.deepEqual(server.addr, bound);
    assert.equal(server.addr.transport, "memory");
  } finally {
    await server.shutdown();
  }
});

test("invalid server options throw a ConfigError naming the option", () => {
  const cases: [ServerOptions | Record<string, unknown>, string][] = [
    [{ maxConnections: 0 }, "maxConnections"],
    [{ maxConnections: 1.5 }, "maxConnections"],
    [{ shutdownTimeoutMs: -1 }, "shutdownTimeoutMs"],
    [{ shutdownTimeoutMs: "soon" }, "shutdownTimeoutMs"],
    [{ transport: 42 }, "transport"],
    [{ maxConnection: 5 }, "maxConnection"], // a typo is reported, not ignored
  ];
  for (const [options, option] of cases) {
    assert.throws(
      () => new WireframeServer(quiet(), options as ServerOptions),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, `${JSON.stringify(options)} → ConfigError`);
        assert.equal(error.option, option);
        assert.match(error.message, new RegExp(`"${option}"`));
        return true;
      },
    );
  }
});

test("invalid listen() and shutdown() options reject with a ConfigError naming the option", async () => {
  const server = new WireframeServer(quiet(), { transport: memoryTransport });
  await assert.rejects(server.listen({ port: 70_000 }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.option, "port");
    return true;
  });
  assert.throws(() => server.shutdown({ timeoutMs: -5 }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.option, "timeoutMs");
    return true;
  });
  await server.shutdown();
});

test("maxConnections rejects the extra connection, counts it, and frees the slot later", async () => {
  await using running = await serveMemory(quiet(), { maxConnections: 1 });
  const first = await connectClient(running.port);
  try {
    assert.equal(str((await first.request(1, text("one"))).payload), "one");

    const extra = await connectClient(running.port);
    await assert.rejects(extra.request(1, text("extra")), ConnectionLostError);
    await extra.close();
    await waitFor(() => running.server.stats().connectionsRejected === 1, "rejection counted");
    assert.equal(str((await first.request(1, text("still"))).payload), "still");
  } finally {
    await first.close();
  }
  await waitFor(() => running.server.stats().connectionsActive === 0, "slot freed");
  const later = await connectClient(running.port);
  assert.equal(str((await later.request(1, text("later"))).payload), "later");
  await later.close();
  const stats = running.server.stats();
  assert.equal(stats.connectionsAccepted, 2);
  assert.equal(stats.connectionsRejected, 1);
});

test("connection ids are allocated by the server, from 1, one per connection", async () => {
  const ids: number[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .onConnectionSetup((info) => void ids.push(info.connectionId))
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  for (let i = 0; i < 3; i++) {
    const client = await connectClient(running.port);
    await client.request(1, text("x"));
    await client.close();
  }
  assert.deepEqual(ids, [1, 2, 3]);
});
