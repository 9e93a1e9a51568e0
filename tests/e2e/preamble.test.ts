/** Real loopback sockets: the connection preamble. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import type { PreambleFailure } from "../../src/app/preamble.ts";
import { echoApp } from "../../examples/echo_server.ts";
import { captureLogger, concat, frame, RawClient, serve, str, text, waitFor } from "./_helpers.ts";

const HELLO = text("HELLO/1\n");

function preambleApp({ timeoutMs = 5_000, welcome = true } = {}) {
  const failures: PreambleFailure[] = [];
  const app = echoApp()
    .logger(captureLogger().logger)
    .withPreamble({
      decode(bytes) {
        const end = bytes.indexOf(0x0a);
        if (end < 0) return undefined;
        if (str(bytes.subarray(0, end + 1)) !== str(HELLO)) throw new Error("unknown greeting");
        return { value: "v1", length: end + 1 };
      },
      onSuccess: (_v, conn) => welcome ? conn.write(text("WELCOME\n")) : undefined,
      onFailure: (error, conn) => {
        failures.push(error.reason);
        return conn.write(text(`DENIED ${error.reason}\n`));
      },
      timeoutMs,
      maxBytes: 64,
    });
  return { app, failures };
}

test("preamble and first frame in one write: the reply, then the frame's response", async () => {
  const { app } = preambleApp();
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  await raw.write(concat(HELLO, frame(1, 1n, text("first"))));
  assert.equal(str(await raw.readBytes(8, "WELCOME")), "WELCOME\n");
  assert.equal(str((await raw.readFrame()).payload), "first");
});

test("WireframeClient's preamble option gets it through to request/response", async () => {
  const { app } = preambleApp({ welcome: false });
  await using running = await serve(app);
  const client = await WireframeClient.connect({ port: running.port, preamble: HELLO });
  try {
    assert.equal(str((await client.request(1, text("hi"))).payload), "hi");
  } finally {
    await client.close();
  }
});

test("a bad preamble gets the onFailure reply before the close", async () => {
  const { app, failures } = preambleApp();
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  await raw.write(text("GET / HTTP/1.1\r\n"));
  const { rest } = await raw.readEnd("the close after the failure reply");
  assert.equal(str(rest), "DENIED invalid\n");
  assert.deepEqual(failures, ["invalid"]);
  await waitFor(() => running.server.stats().preambleFailures === 1, "failure counted");
});

test("a silent client is disconnected at the preamble timeout with a reply", async () => {
  const { app, failures } = preambleApp({ timeoutMs: 50 });
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  const { rest } = await raw.readEnd("the preamble timeout");
  assert.equal(str(rest), "DENIED timeout\n");
  assert.deepEqual(failures, ["timeout"]);
});
