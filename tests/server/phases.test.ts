/** Phases (routing by the connection's phase) and string routing keys. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { PhaseViolationError } from "../../src/app/phases.ts";
import type { Envelope, Serializer } from "../../src/codec/envelope.ts";
import { ConfigError } from "../../src/error.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { captureLogger, concat, frame, RawClient, serve, str, text } from "../e2e/_helpers.ts";

const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PING = 12;

function handshakeApp() {
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger)
    .phases({ initial: "handshake" })
    .withProtocol({
      phaseViolation: (violation) => text(`refused: ${violation.message}`),
    })
    .route(CONNECT, (request, ctx) => {
      if (str(request.payload) !== "secret") return { id: CONNACK, payload: text("bad password") };
      ctx.enterPhase("ready");
      return { id: CONNACK, payload: text("welcome") };
    }, { phase: "handshake" })
    .route(PUBLISH, (request) => request.payload)
    .route(PING, () => text("pong"), { phase: ["handshake", "ready"] });
  return { app, records };
}

test("a handshake phase allows only its routes until the handler moves the connection on", async () => {
  const { app } = handshakeApp();
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(concat(frame(PING, 1n), frame(CONNECT, 2n, text("wrong"))));
  assert.equal(str((await raw.readFrame()).payload), "pong", "PING is allowed in both phases");
  assert.equal(str((await raw.readFrame()).payload), "bad password", "still in the handshake");
  await raw.write(concat(frame(CONNECT, 3n, text("secret")), frame(PUBLISH, 4n, text("hi"))));
  assert.equal(str((await raw.readFrame()).payload), "welcome");
  const echoed = await raw.readFrame();
  assert.deepEqual(
    [echoed.correlationId, str(echoed.payload)],
    [4n, "hi"],
    "ready: PUBLISH routed",
  );
  await raw.write(frame(CONNECT, 5n, text("secret")));
  const refused = await raw.readFrame();
  assert.deepEqual(
    [refused.id, refused.correlationId, str(refused.payload)],
    [CONNECT, 5n, 'refused: message id 1 is not allowed in phase "ready"'],
  );
  assert.equal((await raw.readEnd()).how, "eof", "then the connection closes");
});

test("a frame its phase does not allow gets the protocol's answer, then a close counted as a violation", async () => {
  const { app, records } = handshakeApp();
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(concat(frame(PUBLISH, 1n, text("too early")), frame(PING, 2n)));
  const refused = await raw.readFrame();
  assert.deepEqual([refused.id, refused.correlationId], [PUBLISH, 1n]);
  assert.match(str(refused.payload), /not allowed in phase "handshake"/);
  const { how, rest } = await raw.readEnd();
  assert.equal(how, "eof");
  assert.equal(rest.length, 0, "the PING after it was not served");
  const stats = running.server.stats();
  assert.equal(stats.protocolViolations, 1);
  assert.equal(stats.handlerErrors, 0);
  const logged = records.find((r) => r.message === "connection closed: protocol violation");
  assert.ok(logged?.fields?.error instanceof PhaseViolationError);
});

test("middleware sees a frame its phase refuses, and without a phaseViolation hook the close is at once", async () => {
  const seen: number[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .phases({ initial: "login" })
    .wrap((request, _ctx, next) => {
      seen.push(request.id);
      return next();
    })
    .route(CONNECT, () => text("ok"), { phase: "login" })
    .route(PUBLISH, () => text("never"));
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(PUBLISH, 1n));
  const { how, rest } = await raw.readEnd();
  assert.deepEqual([how, rest.length], ["eof", 0]);
  assert.deepEqual(seen, [PUBLISH]);
});

/** A line protocol: a frame's payload is "VERB args"; every request has id 0. */
const lines: Serializer = {
  decode: (body) => ({ id: 0, correlationId: 1n, payload: body }),
  encode: (envelope: Envelope) => envelope.payload,
};

test("string routing keys: a text protocol routes by command name", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .serializer(lines)
    .routeKey((request) => str(request.payload).split(" ")[0]!.toUpperCase())
    .route("PING", () => text("+PONG"))
    .route("ECHO", (request) => request.payload.subarray(5))
    .fallback(() => text("-ERR unknown command"));
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  const line = (s: string) => {
    const body = text(s);
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    return out;
  };
  await raw.write(concat(line("ping"), line("ECHO hello"), line("FLY away")));
  const read = async () =>
    str(await raw.readBytes(new DataView((await raw.readBytes(4)).buffer).getUint32(0)));
  assert.deepEqual([await read(), await read(), await read()], [
    "+PONG",
    "hello",
    "-ERR unknown command",
  ]);
});

test("route keys and phase names are validated; enterPhase refuses a phase the app does not name", async () => {
  const app = new WireframeApp();
  assert.throws(() => app.route("", () => {}), ConfigError);
  assert.throws(() => app.route(-1, () => {}), ConfigError);
  assert.throws(() => app.route(5, () => {}, { phase: "" }), ConfigError);
  assert.throws(() => app.phases({ initial: "" }), ConfigError);
  app.route("PING", () => {});
  assert.throws(() => app.route("PING", () => {}), /route "PING" is already registered/);

  let refusal: unknown;
  const phased = new WireframeApp()
    .logger(captureLogger().logger)
    .phases({ initial: "a" })
    .route(1, (_request, ctx) => {
      try {
        ctx.enterPhase("nowhere");
      } catch (error) {
        refusal = error;
      }
      return text("done");
    }, { phase: "a" });
  await using running = await serve(phased, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(1, 1n));
  assert.equal(str((await raw.readFrame()).payload), "done");
  assert.ok(refusal instanceof ConfigError);
  assert.match(String((refusal as Error).message), /"a", "ready"/);
});
