/**
 * Real loopback sockets, both runtimes: a text protocol framed by LineCodec.
 * A tiny serializer maps each line to `{ id: 1, payload: line }` and back,
 * so the app routes every line to one echo handler.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LineCodec } from "../../src/codec/line.ts";
import type { Envelope, Serializer } from "../../src/codec/envelope.ts";
import { quietApp, RawClient, serve, str, text, waitFor } from "./_helpers.ts";

/** Every line is an id-1 request; a response's payload is the line sent back. */
const lineSerializer: Serializer = {
  decode: (body: Uint8Array): Envelope => ({ id: 1, payload: body }),
  encode: (envelope: Envelope): Uint8Array => envelope.payload,
};

function lineEchoApp(maxFrameLength = 64) {
  return quietApp()
    .codec(new LineCodec({ maxFrameLength }))
    .serializer(lineSerializer)
    .route(1, (request) => text(`+${str(request.payload)}`));
}

/** Read CRLF-terminated lines until `count` have arrived. */
async function readLines(raw: RawClient, count: number): Promise<string[]> {
  const lines: string[] = [];
  let pending = "";
  while (lines.length < count) {
    pending += str(await raw.readBytes(1, `line ${lines.length + 1} of ${count}`));
    if (pending.endsWith("\r\n")) {
      lines.push(pending.slice(0, -2));
      pending = "";
    }
  }
  return lines;
}

test("a LineCodec server echoes CRLF lines, however the client's writes split them", async () => {
  await using running = await serve(lineEchoApp());
  await using raw = await RawClient.connect(running.port);
  await raw.write(text("PING\r\nHELLO wor"));
  await raw.write(text("ld\r"));
  await raw.write(text("\nbare LF\n\r\n"));
  assert.deepEqual(await readLines(raw, 4), ["+PING", "+HELLO world", "+bare LF", "+"]);
});

test("a line over maxFrameLength closes only that connection", async () => {
  await using running = await serve(lineEchoApp(16));
  await using good = await RawClient.connect(running.port);
  await using bad = await RawClient.connect(running.port);
  await good.write(text("before\r\n"));
  assert.deepEqual(await readLines(good, 1), ["+before"]);

  await bad.write(text("ok\r\n"));
  assert.deepEqual(await readLines(bad, 1), ["+ok"]);
  await bad.write(text("x".repeat(1000))); // no line ending, ever
  const { rest } = await bad.readEnd("the server to close the connection with the long line");
  assert.equal(rest.length, 0);
  await waitFor(() => running.server.stats().protocolViolations === 1, "the violation counted");

  await good.write(text("after\r\n"));
  assert.deepEqual(await readLines(good, 1), ["+after"]);
});

test("a reply holding a newline is refused before a byte is written; the connection goes on", async () => {
  const app = quietApp()
    .codec(new LineCodec())
    .serializer(lineSerializer)
    .route(1, (request) => str(request.payload) === "SPLIT" ? text("a\nb") : request.payload);
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  await raw.write(text("SPLIT\r\nnext\r\n"));
  assert.deepEqual(await readLines(raw, 1), ["next"]); // nothing of "a\nb" came first
  assert.equal(running.server.stats().handlerErrors, 1);
});
