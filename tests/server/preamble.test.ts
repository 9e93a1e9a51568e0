/** The connection preamble over the memory transport: success, failure, timeout, limits. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { PreambleError, PreambleOptions } from "../../src/app/preamble.ts";
import { captureLogger, concat, frame, str, text, waitFor } from "../e2e/_helpers.ts";
import { connectClient, connectRaw, serveMemory } from "./_memory.ts";

const MAGIC = text("WIRE1");

/** An app whose preamble is MAGIC followed by a one-byte version. */
function preambleApp(overrides: Partial<PreambleOptions<number>> = {}) {
  const failures: PreambleError[] = [];
  let setups = 0;
  let teardowns = 0;
  const app = new WireframeApp<number>()
    .logger(captureLogger().logger)
    .withPreamble<number>({
      decode(bytes) {
        const n = Math.min(bytes.length, MAGIC.length);
        if (!MAGIC.subarray(0, n).every((b, i) => bytes[i] === b)) throw new Error("bad magic");
        if (bytes.length < MAGIC.length + 1) return undefined;
        return { value: bytes[MAGIC.length]!, length: MAGIC.length + 1 };
      },
      onSuccess: (_version, conn) => conn.write(text("OK")),
      onFailure: (error, conn) => {
        failures.push(error);
        return conn.write(text(`NO:${error.reason}`));
      },
      ...overrides,
    })
    .onConnectionSetup((info) => {
      setups++;
      return info.preamble as number;
    })
    .onConnectionTeardown(() => void teardowns++)
    .route(1, (req, ctx) => text(`v${ctx.state}:${str(req.payload)}`));
  return { app, failures, counts: () => ({ setups, teardowns }) };
}

test("a preamble and the frames after it in the same chunk are all served", async () => {
  const { app } = preambleApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(
    concat(MAGIC, Uint8Array.of(3), frame(1, 1n, text("a")), frame(1, 2n, text("b"))),
  );
  assert.equal(str(await raw.readBytes(2, "the onSuccess reply")), "OK");
  assert.equal(str((await raw.readFrame()).payload), "v3:a");
  assert.equal(str((await raw.readFrame()).payload), "v3:b");
});

test("a preamble split across many writes is reassembled", async () => {
  const { app } = preambleApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  for (const byte of concat(MAGIC, Uint8Array.of(9))) await raw.write(Uint8Array.of(byte));
  assert.equal(str(await raw.readBytes(2)), "OK");
  await raw.write(frame(1, 1n, text("x")));
  assert.equal(str((await raw.readFrame()).payload), "v9:x");
});

test("WireframeClient sends its preamble option before any frame", async () => {
  const { app } = preambleApp({ onSuccess: () => {} });
  await using running = await serveMemory(app);
  const client = await connectClient(running.port, { preamble: concat(MAGIC, Uint8Array.of(2)) });
  try {
    assert.equal(str((await client.request(1, text("hi"))).payload), "v2:hi");
  } finally {
    await client.close();
  }
});

test("an invalid preamble gets the onFailure reply, then the connection closes", async () => {
  const { app, failures, counts } = preambleApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(text("HTTP/1.1"));
  const { how, rest } = await raw.readEnd("the close after onFailure");
  assert.equal(str(rest), "NO:invalid", "the reply arrives before the close");
  assert.equal(how, "eof", "a clean FIN after the reply");
  await raw.closeWrite(); // answer the server's FIN: it then closes at once
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.reason, "invalid");
  assert.equal(running.server.stats().preambleFailures, 1);
  await waitFor(() => running.server.stats().connectionsActive === 0, "connection ended");
  assert.deepEqual(counts(), { setups: 0, teardowns: 0 }, "no setup without a preamble");
});

test("a preamble that does not complete in time fails with reason timeout", async () => {
  const { app, failures } = preambleApp({ timeoutMs: 30 });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(MAGIC.subarray(0, 2)); // a valid start, never finished
  const { rest } = await raw.readEnd("the preamble timeout");
  assert.equal(str(rest), "NO:timeout");
  assert.deepEqual(failures.map((f) => f.reason), ["timeout"]);
});

test("a preamble longer than maxBytes fails with reason too-long", async () => {
  const { app, failures } = preambleApp({ decode: () => undefined, maxBytes: 16 });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(new Uint8Array(16));
  const { rest } = await raw.readEnd("the too-long failure");
  assert.equal(str(rest), "NO:too-long");
  assert.deepEqual(failures.map((f) => f.reason), ["too-long"]);
});

test("a client that closes before its preamble completes fails with reason eof", async () => {
  const { app, failures } = preambleApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(MAGIC.subarray(0, 3));
  await raw.closeWrite();
  await raw.readEnd();
  await waitFor(() => failures.length === 1, "the failure to be reported");
  assert.equal(failures[0]!.reason, "eof");
});

test("onSuccess may reject the preamble; the connection closes without setup", async () => {
  const veto = new Error("version 1 is retired");
  const { app, failures, counts } = preambleApp({
    onSuccess: (version) => {
      if (version === 1) throw veto;
    },
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(MAGIC, Uint8Array.of(1), frame(1, 1n)));
  const { rest } = await raw.readEnd();
  assert.equal(str(rest), "NO:rejected", "no frame is served after a rejected preamble");
  assert.equal(failures[0]?.cause, veto);
  assert.deepEqual(counts(), { setups: 0, teardowns: 0 });
});
