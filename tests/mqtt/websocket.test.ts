/**
 * The MQTT broker (examples/mqtt) over WebSocket, unchanged: MQTT.js, a
 * client nobody here wrote, connects to `ws://127.0.0.1:PORT/mqtt` with the
 * `mqtt` subprotocol (what a browser does). (One app cannot be served by a
 * TCP and a WebSocket server at once: a WireframeApp's dead-letter queue
 * takes its writer per server, so a broker shared by both is left for later.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mqttApp } from "../../examples/mqtt/app.ts";
import { websocketTransport } from "../../src/transport/websocket.ts";
import { captureLogger, serve } from "../e2e/_helpers.ts";
import { client, inbox } from "./_helpers.ts";

test("MQTT.js over ws:// connects with the mqtt subprotocol, subscribes, publishes QoS 1 and 2, gets retained messages", async () => {
  const { app } = mqttApp();
  const transport = websocketTransport({ path: "/mqtt", protocols: ["mqtt"] });
  await using overWs = await serve(app.logger(captureLogger().logger), { transport });
  const url = `ws://127.0.0.1:${overWs.port}/mqtt`;
  await using browserLike = await client(url, { clientId: "ws-client" });
  await using second = await client(url, { clientId: "second" });
  const wsBox = inbox(browserLike), secondBox = inbox(second);
  await browserLike.subscribeAsync("to-ws/#", { qos: 1 });
  await second.subscribeAsync("to-second/#", { qos: 2 });

  await second.publishAsync("to-ws/a", "from the second", { qos: 1 });
  const big = "x".repeat(200_000); // many WebSocket messages' worth, or one: either is a stream
  await browserLike.publishAsync("to-second/b", big, { qos: 2 });
  await browserLike.publishAsync("to-ws/retained", "kept", { qos: 1, retain: true });

  const [first, retained] = await wsBox.next(2);
  assert.deepEqual([first!.topic, first!.payload, first!.qos], ["to-ws/a", "from the second", 1]);
  assert.equal(retained!.topic, "to-ws/retained");
  const [crossed] = await secondBox.next(1);
  assert.deepEqual([crossed!.topic, crossed!.payload.length, crossed!.qos], [
    "to-second/b",
    200_000,
    2,
  ]);

  // A second WebSocket client gets the retained message on subscribing.
  await using late = await client(`ws://127.0.0.1:${overWs.port}/mqtt`, { clientId: "late" });
  await late.subscribeAsync("to-ws/retained", { qos: 1 });
  const [kept] = await inbox(late).next(1);
  assert.deepEqual([kept!.payload, kept!.retain], ["kept", true]);
});
