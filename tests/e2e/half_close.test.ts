/** Real loopback sockets: half-close (FIN) from the client. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { COUNT, ECHO, echoApp } from "../../examples/echo_server.ts";
import {
  captureLogger,
  concat,
  frame,
  RawClient,
  readU32,
  serve,
  str,
  text,
  u32,
  waitFor,
} from "./_helpers.ts";

test("a client that half-closes after its request still gets the response, then EOF", async () => {
  let teardowns = 0;
  const app = echoApp().logger(captureLogger().logger).onConnectionTeardown(() => void teardowns++);
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  await raw.write(frame(ECHO, 1n, text("bye")));
  await raw.closeWrite();
  const reply = await raw.readFrame("the response after our FIN");
  assert.deepEqual([reply.correlationId, str(reply.payload)], [1n, "bye"]);
  const end = await raw.readEnd("the server to close after answering");
  assert.deepEqual(end, { how: "eof", rest: new Uint8Array(0) }, "a clean close, nothing more");
  await waitFor(() => teardowns === 1, "teardown");
  assert.equal(running.server.stats().connectionErrors, 0, "a half-close is not an error");
});

test("a long stream requested just before FIN is delivered in full", async () => {
  await using running = await serve(echoApp().logger(captureLogger().logger));
  await using raw = await RawClient.connect(running.port);
  const n = 3_000;
  await raw.write(concat(frame(COUNT, 7n, u32(n)), frame(ECHO, 8n, text("last"))));
  await raw.closeWrite();
  for (let i = 0; i < n; i++) {
    const f = await raw.readFrame(`frame ${i}`);
    assert.equal(readU32(f.payload), i);
  }
  assert.equal(str((await raw.readFrame("the echo after the stream")).payload), "last");
  assert.equal((await raw.readEnd()).how, "eof");
});
