/** Graceful shutdown and its deadline, over the memory transport (DESIGN.md §8 "Server"). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { ConnectionLostError } from "../../src/client/errors.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { ConnectionRefusedError } from "../../src/transport/errors.ts";
import {
  captureLogger,
  deadline,
  frame,
  readU32,
  signal,
  text,
  u32,
  waitFor,
} from "../e2e/_helpers.ts";
import { connectClient, connectRaw, serveMemory } from "./_memory.ts";

/** Resolves once the memory listener on `port` refuses connections (the server stopped accepting). */
async function untilRefused(port: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      (await memoryTransport.connect({ port })).close();
    } catch (error) {
      if (error instanceof ConnectionRefusedError) return;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("hang guard: the listener never closed");
}

test("graceful shutdown lets a response stream in flight finish, then resolves", async () => {
  const gate = signal();
  const completed = signal<boolean>();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async function* () {
    let done = false;
    try {
      yield u32(0);
      await gate.promise;
      for (let i = 1; i < 5; i++) yield u32(i);
      done = true;
    } finally {
      completed.resolve(done);
    }
  });
  const running = await serveMemory(app);
  const client = await connectClient(running.port);
  try {
    const isEnd = (f: { payload: Uint8Array }) => readU32(f.payload) === 4;
    const stream = client.stream(1, new Uint8Array(), { isEnd })[Symbol.asyncIterator]();
    const first = await stream.next();
    assert.equal(readU32(first.value!.payload), 0);

    let shutdownDone = false;
    const shutdown = running.server.shutdown({ timeoutMs: 60_000 }).then(() => {
      shutdownDone = true;
    });
    await untilRefused(running.port);
    assert.equal(shutdownDone, false, "shutdown waits for the stream in flight");
    gate.resolve();

    const rest: number[] = [];
    for (let step = await stream.next(); !step.done; step = await stream.next()) {
      rest.push(readU32(step.value.payload));
    }
    assert.deepEqual(rest, [1, 2, 3, 4], "every frame reaches the client");
    await deadline(shutdown, "shutdown");
    assert.equal(await completed.promise, true, "the generator ran to its end");
  } catch (error) {
    gate.resolve();
    throw error;
  } finally {
    await client.close();
    await running[Symbol.asyncDispose]();
  }
});

test("at the shutdown deadline a stuck stream is force-closed and its finally runs", async () => {
  const stuck = signal();
  const finalized = signal();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async function* (_r, ctx) {
    try {
      yield u32(0);
      stuck.resolve();
      // Waits for more data that never comes, but honours ctx.signal as documented.
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      yield u32(1);
    } finally {
      finalized.resolve();
    }
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  assert.equal(readU32((await raw.readFrame()).payload), 0);
  await deadline(stuck.promise, "stream stuck");
  await deadline(running.server.shutdown({ timeoutMs: 20 }), "shutdown after its deadline");
  await deadline(finalized.promise, "the generator's finally");
  await raw.readEnd("the force-closed connection to end");
  assert.equal(running.server.stats().connectionsActive, 0);
});

test("shutdown resolves at its deadline even if a stream ignores ctx.signal", async () => {
  const stuck = signal();
  const never = signal(); // released only at the end of the test
  const finalized = signal();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async function* () {
    try {
      yield u32(0);
      stuck.resolve();
      await never.promise;
      yield u32(1);
    } finally {
      finalized.resolve();
    }
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  try {
    await raw.write(frame(1, 1n));
    await raw.readFrame();
    await deadline(stuck.promise, "stream stuck");
    await deadline(running.server.shutdown({ timeoutMs: 20 }), "shutdown after its deadline");
    await raw.readEnd("the force-closed connection to end");
  } finally {
    never.resolve();
  }
  // The generator was asked to return: once it wakes up it ends, without running on.
  await deadline(finalized.promise, "the generator's finally once it wakes");
});

test("shutdown resolves promptly with idle connections and tears each down once", async () => {
  let teardowns = 0;
  const app = new WireframeApp<undefined>()
    .logger(captureLogger().logger)
    .onConnectionTeardown(() => void teardowns++)
    .route(1, (req) => req.payload);
  const server = new WireframeServer(app, { transport: memoryTransport });
  const { port } = await server.listen();
  const clients = await Promise.all([1, 2, 3].map(() => connectClient(port)));
  try {
    for (const client of clients) await client.request(1, text("hi"));
    // A long grace period: idle connections must not wait for it.
    await deadline(server.shutdown({ timeoutMs: 3_600_000 }), "shutdown with idle connections");
    await deadline(server.closed, "server.closed");
    assert.equal(teardowns, 3);
    assert.equal(server.stats().connectionsActive, 0);
    for (const client of clients) {
      await deadline(client.closed, "the client sees the close");
      await assert.rejects(client.request(1, text("late")), ConnectionLostError);
    }
  } finally {
    for (const client of clients) await client.close();
    await server.shutdown({ timeoutMs: 1_000 });
  }
});

test("server.closed resolves only after shutdown; shutdown is idempotent", async () => {
  const server = new WireframeServer(new WireframeApp().logger(captureLogger().logger), {
    transport: memoryTransport,
  });
  let closed = false;
  void server.closed.then(() => (closed = true));
  const { port } = await server.listen();
  await using raw = await connectRaw(port);
  await waitFor(() => server.stats().connectionsActive === 1, "connection accepted");
  assert.equal(closed, false);
  const first = server.shutdown();
  const second = server.shutdown({ timeoutMs: 5 });
  // The idle connection gets a clean FIN; answering with ours completes the close.
  assert.equal((await raw.readEnd("the server's FIN")).how, "eof");
  await raw.closeWrite();
  await deadline(Promise.all([first, second]), "shutdown");
  await deadline(server.closed, "server.closed");
  assert.equal(closed, true);
  await assert.rejects(memoryTransport.connect({ port }), ConnectionRefusedError);
});

test("await using shuts the server down at scope exit", async () => {
  let port = 0;
  {
    await using server = new WireframeServer(new WireframeApp().logger(captureLogger().logger), {
      transport: memoryTransport,
    });
    port = (await server.listen()).port;
    (await memoryTransport.connect({ port })).close();
  }
  await assert.rejects(memoryTransport.connect({ port }), ConnectionRefusedError);
});

test("shutdown resolves at its deadline even if a teardown hook never settles", async () => {
  const { logger, records } = captureLogger();
  const tearingDown = signal();
  const never = signal(); // released only at the end of the test
  const app = new WireframeApp()
    .logger(logger)
    .route(1, () => u32(1))
    .onConnectionTeardown(async () => {
      tearingDown.resolve();
      await never.promise;
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  try {
    await raw.write(frame(1, 1n));
    await raw.readFrame(); // setup has run, so teardown will
    await deadline(running.server.shutdown({ timeoutMs: 20 }), "shutdown despite a stuck teardown");
    await deadline(tearingDown.promise, "the teardown to have started");
    assert.ok(
      records.some((r) => r.message.includes("teardown did not finish")),
      "the stuck teardown is reported",
    );
  } finally {
    never.resolve();
  }
});
