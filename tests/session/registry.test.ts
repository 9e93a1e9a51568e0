/**
 * SessionRegistry: live connections by id through a real server (memory
 * transport), removal the moment a connection closes, broadcast; and the
 * registry's own bookkeeping over fake push targets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { PushHandle, type PushTarget } from "../../src/push/push_handle.ts";
import { SessionRegistry } from "../../src/session/registry.ts";
import {
  captureLogger,
  deadline,
  frame as wireFrame,
  type RawClient,
  readU32,
  signal,
  u32,
} from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "../server/_memory.ts";
import { jam, pushRig } from "../push/_server.ts";

const NEWS = 50;

/** Register connections in `registry` and answer id 1 with the connection id. */
function registered(registry: SessionRegistry, app = new WireframeApp()): WireframeApp {
  return app.sessions(registry).route(1, (_req, ctx) => u32(ctx.connectionId));
}

/** An app that registers its connections and answers id 1 with the connection id. */
function registeredApp(registry: SessionRegistry) {
  return registered(registry, new WireframeApp().logger(captureLogger().logger));
}

/** Connect and learn the server's id for the connection (it is registered by then). */
async function join(port: number): Promise<{ raw: RawClient; id: number }> {
  const raw = await connectRaw(port);
  await raw.write(wireFrame(1, 1n));
  return { raw, id: readU32((await raw.readFrame("join reply")).payload) };
}

/** A PushHandle over a target whose closed state the test controls. */
function fakeHandle(connectionId: number): { handle: PushHandle; close: () => void } {
  let isClosed = false;
  const target: PushTarget = {
    connectionId,
    closed: new Promise(() => {}),
    get isClosed() {
      return isClosed;
    },
    tryPush: () => "queued",
    push: () => Promise.resolve(),
    takeRateToken: () => Promise.resolve(),
    tryTakeRateToken: () => true,
    deadLetter: () => {},
  };
  return { handle: new PushHandle(target), close: () => void (isClosed = true) };
}

test("get, ids, handles and size list exactly the live connections", async () => {
  const registry = new SessionRegistry();
  await using running = await serveMemory(registeredApp(registry));
  const a = await join(running.port);
  await using _a = a.raw;
  const b = await join(running.port);
  await using _b = b.raw;
  assert.notEqual(a.id, b.id);
  assert.deepEqual(registry.ids().sort(), [a.id, b.id].sort());
  assert.equal(registry.size, 2);
  assert.deepEqual(registry.handles().map((h) => h.connectionId).sort(), [a.id, b.id].sort());
  const handle = registry.get(a.id);
  assert.ok(handle instanceof PushHandle);
  assert.equal(handle.connectionId, a.id);
  assert.equal(registry.get(9999), undefined);
  assert.equal(handle.tryPush({ id: NEWS, payload: u32(1) }), "queued");
  const pushed = await a.raw.readFrame();
  assert.deepEqual([pushed.id, pushed.correlationId, readU32(pushed.payload)], [
    NEWS,
    undefined,
    1,
  ]);
});

test("an entry is gone as soon as its connection closes: get() of a dead id is undefined", async () => {
  const registry = new SessionRegistry();
  await using running = await serveMemory(registeredApp(registry));
  const { raw, id } = await join(running.port);
  const other = await join(running.port);
  await using _other = other.raw;
  const handle = registry.get(id)!;
  raw.close();
  await deadline(handle.closed, "the connection closes");
  assert.equal(registry.get(id), undefined, "synchronously after closed resolves");
  assert.equal(registry.ids().includes(id), false);
  assert.equal(registry.size, 1);
  assert.equal(handle.tryPush({ id: NEWS, payload: u32(0) }), "closed", "the old handle is dead");
  assert.ok(registry.get(other.id), "the other connection is still registered");
  await raw[Symbol.asyncDispose]();
});

test("a connection is registered only once its setup hooks have run", async () => {
  const registry = new SessionRegistry();
  const inSetup = signal<number>();
  const release = signal();
  const app = registeredApp(registry).withProtocol({
    onConnectionSetup: async (_push, info) => {
      inSetup.resolve(info.connectionId);
      await release.promise;
    },
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  const id = await deadline(inSetup.promise, "setup running");
  assert.equal(registry.get(id), undefined, "not yet: setup is still running");
  release.resolve();
  await raw.write(wireFrame(1, 1n));
  await raw.readFrame();
  assert.ok(registry.get(id));
});

test("graceful shutdown empties the registry before the connections have finished", async () => {
  const registry = new SessionRegistry();
  await using running = await serveMemory(registeredApp(registry));
  const { raw, id } = await join(running.port);
  await using _raw = raw;
  const handle = registry.get(id)!;
  const shutdown = running.server.shutdown({ timeoutMs: 5_000 });
  await deadline(handle.closed, "closing");
  assert.equal(registry.size, 0);
  assert.equal(registry.get(id), undefined);
  await raw.answerFin();
  await deadline(shutdown, "shutdown");
});

test("broadcast pushes to every live connection and counts those it queued for", async () => {
  const registry = new SessionRegistry();
  await using running = await serveMemory(registeredApp(registry));
  const clients = [await join(running.port), await join(running.port), await join(running.port)];
  const count = await registry.broadcast({ id: NEWS, payload: u32(7) }, { policy: "drop-if-full" });
  assert.equal(count, 3);
  for (const { raw } of clients) {
    const f = await raw.readFrame();
    assert.deepEqual([f.id, f.correlationId, readU32(f.payload)], [NEWS, undefined, 7]);
  }
  clients[0]!.raw.close();
  await deadline(registry.get(clients[0]!.id)?.closed ?? Promise.resolve(), "first closed");
  assert.equal(
    await registry.broadcast({ id: NEWS, payload: u32(8) }, { policy: "drop-if-full" }),
    2,
  );
  for (const { raw } of clients) await raw[Symbol.asyncDispose]();
});

test("broadcast with a drop policy skips a connection whose queue is full, without waiting", async () => {
  const registry = new SessionRegistry();
  await using rig = await pushRig((app) =>
    registered(registry, app).pushQueues({ highCapacity: 1 })
  );
  await jam(rig.handle, "high");
  const { raw: other } = await join(rig.running.port);
  await using _other = other;
  assert.equal(registry.size, 2);
  const frame: Envelope = { id: NEWS, payload: u32(9) };
  assert.equal(
    await deadline(registry.broadcast(frame, { policy: "drop-if-full" }), "broadcast"),
    1,
  );
  const f = await other.readFrame();
  assert.equal(readU32(f.payload), 9);
  assert.deepEqual(rig.letters.map((l) => [l.connectionId, l.reason]), [[
    rig.handle.connectionId,
    "full",
  ]]);
});

test("broadcast waits only for a connection whose rate limit has no token now, and counts it once queued", async () => {
  const registry = new SessionRegistry();
  await using rig = await pushRig((app) =>
    registered(registry, app).rateLimit({ perSecond: 1000, burst: 1 })
  );
  const { raw: other } = await join(rig.running.port);
  await using _other = other;
  // The rig's connection spends its one token; the other keeps its own.
  assert.equal(rig.handle.tryPush({ id: NEWS, payload: u32(1) }), "queued");
  const frame: Envelope = { id: NEWS, payload: u32(2) };
  assert.equal(
    await deadline(registry.broadcast(frame, { policy: "drop-if-full" }), "broadcast"),
    2,
    "queued on both, the rate-limited one after its next token",
  );
  assert.equal(readU32((await other.readFrame()).payload), 2);
  assert.deepEqual(rig.letters, []);
});

test("registry bookkeeping: remove() forgets only the handle it was given; closed handles are hidden", () => {
  const registry = new SessionRegistry();
  const first = fakeHandle(1);
  const second = fakeHandle(2);
  registry.add(first.handle);
  registry.add(second.handle);
  assert.deepEqual(registry.ids(), [1, 2]);
  const stale = fakeHandle(1);
  registry.remove(stale.handle); // same id, different handle: ignored
  assert.equal(registry.get(1), first.handle);
  second.close();
  assert.equal(registry.get(2), undefined, "a closed handle is not live");
  assert.deepEqual(registry.ids(), [1]);
  assert.deepEqual(registry.handles(), [first.handle]);
  registry.remove(first.handle);
  assert.equal(registry.get(1), undefined);
  assert.equal(registry.size, 0);
});
