/** Connection lifecycle over the memory transport: setup, teardown, ctx.signal, app data. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { appDataKey, MissingAppDataError } from "../../src/app/app_data.ts";
import { ConnectionLostError } from "../../src/client/errors.ts";
import {
  captureLogger,
  concat,
  deadline,
  frame,
  rawFrame,
  readU32,
  reservedFlagsBody,
  signal,
  str,
  text,
  u32,
  waitFor,
} from "../e2e/_helpers.ts";
import { connectClient, connectRaw, serveMemory } from "./_memory.ts";

interface Session {
  connectionId: number;
  hits: number;
}

/** An app that counts setups and teardowns per connection id. */
function trackedApp() {
  const setups: number[] = [];
  const teardowns: Session[] = [];
  const { logger, records } = captureLogger();
  const app = new WireframeApp<Session>()
    .logger(logger)
    .onConnectionSetup((info): Session => {
      setups.push(info.connectionId);
      return { connectionId: info.connectionId, hits: 0 };
    })
    .onConnectionTeardown((state) => void teardowns.push(state))
    .route(1, (_req, ctx) => u32(++ctx.state.hits));
  const tornDown = (id: number) => teardowns.filter((s) => s.connectionId === id).length;
  return { app, setups, teardowns, tornDown, records };
}

test("setup state is visible to handlers and teardown gets it once the client closes", async () => {
  const { app, setups, teardowns } = trackedApp();
  await using running = await serveMemory(app);
  const client = await connectClient(running.port);
  assert.equal(readU32((await client.request(1, new Uint8Array())).payload), 1);
  assert.equal(readU32((await client.request(1, new Uint8Array())).payload), 2);
  await client.close();
  await waitFor(() => teardowns.length === 1, "teardown");
  assert.deepEqual(setups, [1]);
  assert.deepEqual(teardowns, [{ connectionId: 1, hits: 2 }]);
  await running.server.shutdown();
  assert.equal(teardowns.length, 1, "shutdown must not tear the connection down again");
});

test("teardown runs exactly once for each way a connection can end", async () => {
  const { app, setups, teardowns, tornDown } = trackedApp();
  const running = await serveMemory(app);
  try {
    // 1. the client closes normally
    const polite = await connectClient(running.port);
    await polite.request(1, new Uint8Array());
    await polite.close();
    await waitFor(() => tornDown(1) === 1, "teardown after client close");

    // 2. the client resets after a request
    const rude = await connectRaw(running.port);
    await rude.write(frame(1, 1n));
    await rude.readFrame();
    rude.close();
    await waitFor(() => tornDown(2) === 1, "teardown after client reset");

    // 3. a protocol violation
    const bad = await connectRaw(running.port);
    await bad.write(frame(1, 1n));
    await bad.readFrame();
    await bad.write(rawFrame(reservedFlagsBody()));
    await bad.readEnd();
    await bad.answerFin();
    await waitFor(() => tornDown(3) === 1, "teardown after a protocol violation");
    await bad[Symbol.asyncDispose]();

    // 4. server shutdown while the connection is idle
    const idle = await connectClient(running.port);
    await idle.request(1, new Uint8Array());
    await deadline(running.server.shutdown(), "shutdown");
    await deadline(idle.closed, "client sees the close");
    await idle.close();
  } finally {
    await running[Symbol.asyncDispose]();
  }
  assert.deepEqual(setups, [1, 2, 3, 4]);
  assert.deepEqual(teardowns.map((s) => s.connectionId).sort(), [1, 2, 3, 4]);
  assert.deepEqual(teardowns.map((s) => s.hits), [1, 1, 1, 1]);
});

test("a throwing setup hook closes the connection, is logged and counted, and skips teardown", async () => {
  const boom = new Error("setup exploded");
  let teardowns = 0;
  const { logger, records } = captureLogger();
  let first = true;
  const app = new WireframeApp<string>()
    .logger(logger)
    .onConnectionSetup(() => {
      if (first) {
        first = false;
        throw boom;
      }
      return "ok";
    })
    .onConnectionTeardown(() => void teardowns++)
    .route(1, (_req, ctx) => text(ctx.state));
  await using running = await serveMemory(app);

  const doomed = await connectClient(running.port);
  await assert.rejects(doomed.request(1, new Uint8Array()), ConnectionLostError);
  await doomed.close();
  await waitFor(() => running.server.stats().connectionsActive === 0, "doomed connection ends");
  assert.equal(running.server.stats().handlerErrors, 1);
  assert.ok(
    records.some((r) => r.level === "error" && r.fields?.error === boom),
    "the setup error is logged",
  );

  const healthy = await connectClient(running.port);
  assert.equal(str((await healthy.request(1, new Uint8Array())).payload), "ok");
  await healthy.close();
  await waitFor(() => teardowns === 1, "teardown of the healthy connection");
  assert.equal(teardowns, 1, "no teardown for the connection whose setup threw");
});

test("a throwing teardown hook is logged and counted, and the server carries on", async () => {
  const boom = new Error("teardown exploded");
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger, { throttleMs: 0 }) // counts every record
    .onConnectionTeardown(() => {
      throw boom;
    })
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  for (let i = 0; i < 2; i++) {
    const client = await connectClient(running.port);
    assert.equal(str((await client.request(1, text("hi"))).payload), "hi");
    await client.close();
  }
  await waitFor(() => running.server.stats().handlerErrors === 2, "both teardown faults counted");
  assert.equal(records.filter((r) => r.level === "error" && r.fields?.error === boom).length, 2);
});

test("a setup that completes after its client left still gets its teardown", async () => {
  const started = signal();
  const gate = signal();
  const tornDown: string[] = [];
  const app = new WireframeApp<string>()
    .logger(captureLogger().logger)
    .onConnectionSetup(async () => {
      started.resolve();
      await gate.promise; // e.g. opening a database connection
      return "db-handle";
    })
    .onConnectionTeardown((state) => void tornDown.push(state))
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  const raw = await connectRaw(running.port);
  await deadline(started.promise, "setup started");
  await raw[Symbol.asyncDispose](); // the client leaves mid-setup
  await waitFor(() => running.server.stats().connectionsActive === 0, "connection ended");
  gate.resolve(); // the setup completes: what it opened must still be released
  await waitFor(() => tornDown.length === 1, "teardown of the late setup's state");
  assert.deepEqual(tornDown, ["db-handle"]);
});

test("ctx.signal fires when the client goes away mid-request", async () => {
  const started = signal();
  const aborted = signal<unknown>();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, (_req, ctx) => {
    started.resolve();
    ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason), {
      once: true,
    });
    return new Promise<undefined>(() => {}); // never answers
  });
  await using running = await serveMemory(app);
  const raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  await deadline(started.promise, "handler started");
  raw.close();
  await deadline(aborted.promise, "ctx.signal aborted");
  await waitFor(() => running.server.stats().connectionsActive === 0, "connection ended");
  await raw[Symbol.asyncDispose]();
});

test("the signal seen by teardown has fired, and hooks see the connection's addresses", async () => {
  const seen: { aborted: boolean; local: number; remote: number }[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .onConnectionTeardown((_state, info) =>
      void seen.push({
        aborted: info.signal.aborted,
        local: info.localAddr.port,
        remote: info.remoteAddr.port,
      })
    )
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  const client = await connectClient(running.port);
  await client.request(1, new Uint8Array());
  await client.close();
  await waitFor(() => seen.length === 1, "teardown");
  assert.equal(seen[0]!.aborted, true);
  assert.equal(seen[0]!.local, running.port);
  assert.notEqual(seen[0]!.remote, running.port);
});

test("app data is read through typed keys, and a missing key is a handler fault", async () => {
  const Greeting = appDataKey<string>("greeting");
  const Limit = appDataKey<number>("limit");
  const Imposter = appDataKey<string>("greeting"); // same name, different key
  const { logger, records } = captureLogger();
  let setupSaw = "";
  const app = new WireframeApp()
    .logger(logger)
    .appData(Greeting, "hello")
    .appData(Limit, 3)
    .onConnectionSetup((info) => void (setupSaw = info.appData(Greeting)))
    .route(1, (_req, ctx) => text(`${ctx.appData(Greeting)} x${ctx.appData(Limit)}`))
    .route(2, (_req, ctx) => text(ctx.appData(Imposter)));
  await using running = await serveMemory(app);
  const raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  assert.equal(str((await raw.readFrame()).payload), "hello x3");
  assert.equal(setupSaw, "hello");

  await raw.write(concat(frame(2, 2n), frame(1, 3n)));
  const next = await raw.readFrame();
  assert.equal(next.correlationId, 3n, "the faulty request gets no response; the next one does");
  await waitFor(() => running.server.stats().handlerErrors === 1, "handler error counted");
  const fault = records.find((r) => r.level === "error");
  assert.ok(fault?.fields?.error instanceof MissingAppDataError);
  assert.match((fault.fields.error as Error).message, /greeting/);
  await raw[Symbol.asyncDispose]();
});
