/** A peer's protocol violations are counted in stats().protocolViolations and logged at debug only. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { FrameTooLargeError } from "../../src/codec/errors.ts";
import { EnvelopeError } from "../../src/codec/envelope.ts";
import { MalformedFragmentError } from "../../src/fragment/errors.ts";
import { LenFlag32K } from "../../src/fragment/len_flag_32k.ts";
import {
  captureLogger,
  concat,
  frame,
  rawFrame,
  reservedFlagsBody,
  str,
  text,
  u32,
  waitFor,
} from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "../server/_memory.ts";

/** Send `bytes` on a fresh connection and wait for the server to close it. */
async function violate(port: number, bytes: Uint8Array): Promise<void> {
  await using raw = await connectRaw(port);
  await raw.write(bytes);
  await raw.readEnd("the server to close the offending connection");
}

test("malformed envelopes and oversized frames count as protocol violations, logged at debug only", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp().logger(logger).route(1, (req) => req.payload);
  await using running = await serveMemory(app);

  for (let i = 0; i < 3; i++) await violate(running.port, rawFrame(reservedFlagsBody()));
  await violate(running.port, u32(0x7fff_ffff)); // a declared length far over the 1 MiB max

  await waitFor(() => running.server.stats().protocolViolations === 4, "4 violations counted");
  const stats = running.server.stats();
  assert.equal(stats.connectionErrors, 4, "still counted as connection errors too");
  assert.equal(stats.malformedFrames, 3);
  assert.equal(stats.handlerErrors, 0);
  const violations = records.filter((r) => r.message === "connection closed: protocol violation");
  assert.deepEqual(violations.map((r) => r.level), ["debug", "debug", "debug", "debug"]);
  assert.ok(violations.slice(0, 3).every((r) => r.fields?.error instanceof EnvelopeError));
  assert.ok(violations[3]!.fields?.error instanceof FrameTooLargeError);
  assert.deepEqual(records.filter((r) => r.level === "warn" || r.level === "error"), []);

  await using healthy = await connectRaw(running.port);
  await healthy.write(frame(1, 1n, text("still served")));
  assert.equal(str((await healthy.readFrame()).payload), "still served");
});

test("a malformed fragment is a protocol violation, not a server fault", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp().logger(logger).fragmentation(new LenFlag32K())
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  // A final fragment that declares 5 payload bytes and carries 1.
  await violate(running.port, concat(u32(3), Uint8Array.of(0x80, 0x05, 0x2a)));

  await waitFor(() => running.server.stats().protocolViolations === 1, "the violation counted");
  const violation = records.find((r) => r.message === "connection closed: protocol violation");
  assert.equal(violation?.level, "debug");
  assert.ok(violation.fields?.error instanceof MalformedFragmentError);
  assert.deepEqual(records.filter((r) => r.level === "warn" || r.level === "error"), []);
});

test("a failed preamble is a protocol violation too, and counted as a preamble failure", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp().logger(logger)
    .withPreamble({
      decode(bytes) {
        if (bytes[0] !== 0x57) throw new Error("bad magic");
        return { value: undefined, length: 1 };
      },
    })
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  await violate(running.port, text("nope"));
  await violate(running.port, text("nope"));

  await waitFor(() => running.server.stats().protocolViolations === 2, "both violations counted");
  const stats = running.server.stats();
  assert.equal(stats.preambleFailures, 2);
  assert.equal(stats.connectionErrors, 0, "as before: a failed preamble is not a connection error");
  assert.deepEqual(
    records.filter((r) => r.message === "preamble failed").map((r) => r.level),
    ["debug", "debug"],
  );
  assert.deepEqual(records.filter((r) => r.level === "warn" || r.level === "error"), []);
});

test("a handler fault is not a protocol violation", async () => {
  const app = new WireframeApp().logger(captureLogger().logger, { throttleMs: 0 }).route(1, () => {
    throw new Error("boom");
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(1, 1n), frame(1, 2n)));
  await waitFor(() => running.server.stats().handlerErrors === 2, "both faults counted");
  assert.equal(running.server.stats().protocolViolations, 0);
});
