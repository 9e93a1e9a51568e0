/**
 * The broker against Debian's mosquitto_sub and mosquitto_pub (libmosquitto,
 * C; they connect with an empty client id): publish/subscribe over a
 * wildcard, retained messages, QoS 2. And the CLI, examples/mqtt/broker.ts,
 * as a process: its ACL flags, and SIGTERM.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { broker } from "./_helpers.ts";
import { mosquittoPub, mosquittoSub } from "./_mosquitto.ts";
import { startExample } from "../e2e/_process.ts";

test("mosquitto_sub gets QoS 0 and 1 messages from mosquitto_pub over a wildcard, with empty client ids", async () => {
  await using b = await broker();
  const sub = mosquittoSub(b.port, ["-t", "home/+/temp", "-q", "1", "-C", "2", "-v"]);
  assert.deepEqual(await sub.subscribed, [1]);
  assert.equal(
    (await mosquittoPub(b.port, ["-t", "home/kitchen/temp", "-m", "21", "-q", "0"])).code,
    0,
  );
  assert.equal(
    (await mosquittoPub(b.port, ["-t", "home/attic/temp", "-m", "9", "-q", "1"])).code,
    0,
  );
  const { code, lines } = await sub.done;
  assert.equal(code, 0);
  assert.deepEqual(lines, ["home/kitchen/temp 21", "home/attic/temp 9"]);
});

test("a message mosquitto_pub retains reaches a later mosquitto_sub with the retain flag", async () => {
  await using b = await broker();
  assert.equal(
    (await mosquittoPub(b.port, ["-t", "status/door", "-m", "open", "-r", "-q", "1"])).code,
    0,
  );
  const sub = mosquittoSub(b.port, ["-t", "status/#", "-C", "1", "-F", "%t %p %r"]);
  const { code, lines } = await sub.done;
  assert.equal(code, 0);
  assert.deepEqual(lines, ["status/door open 1"]);
});

test("QoS 2 between mosquitto clients: each message arrives once, in order", async () => {
  await using b = await broker();
  const sub = mosquittoSub(b.port, ["-t", "q2", "-q", "2", "-C", "2", "-F", "%q %p"]);
  assert.deepEqual(await sub.subscribed, [2]);
  for (const m of ["one", "two"]) {
    assert.equal((await mosquittoPub(b.port, ["-t", "q2", "-m", m, "-q", "2"])).code, 0);
  }
  const { lines } = await sub.done;
  assert.deepEqual(lines, ["2 one", "2 two"]);
});

test("broker.ts: --deny-subscribe answers 0x80, --deny-publish drops, and SIGTERM exits 0", async () => {
  await using broker = await startExample("mqtt/broker.ts", [
    "--deny-subscribe",
    "private/#",
    "--deny-publish",
    "readonly/#",
    "--deny-publish",
    "also/denied",
    "--max-inflight",
    "8",
    "--max-queued",
    "100",
  ]);
  const denied = mosquittoSub(broker.port, ["-t", "private/x", "-C", "1"]);
  assert.deepEqual(await denied.subscribed, [128]);
  denied.kill();
  const sub = mosquittoSub(broker.port, ["-t", "#", "-C", "1", "-v"]);
  assert.deepEqual(await sub.subscribed, [0]);
  for (const topic of ["readonly/a", "also/denied", "private/x", "open"]) {
    assert.equal((await mosquittoPub(broker.port, ["-t", topic, "-m", topic, "-q", "1"])).code, 0);
  }
  assert.deepEqual((await sub.done).lines, ["open open"], "only the allowed topic");
  assert.equal(await broker.terminate(), 0);
});

test("broker.ts refuses a bad option with exit code 2 and says which", async () => {
  await assert.rejects(
    startExample("mqtt/broker.ts", ["--max-inflight", "0"]),
    /exited early \(2\): --max-inflight must be an integer from 1 to 65535/,
  );
  await assert.rejects(
    startExample("mqtt/broker.ts", ["--deny-publish", "a/#/b"]),
    /exited early \(2\): --deny-publish "a\/#\/b"/,
  );
});
