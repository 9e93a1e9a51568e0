/** The error base class: what every Wireframe error carries, whatever area throws it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionLostError, CorrelationMismatchError } from "../src/client/errors.ts";
import { EnvelopeError } from "../src/codec/envelope.ts";
import { CodecError, FrameTooLargeError } from "../src/codec/errors.ts";
import { ConfigError, WireframeBaseError, WireframeError } from "../src/error.ts";
import {
  FragmentError,
  MalformedFragmentError,
  MessageTooLargeError,
} from "../src/fragment/errors.ts";
import { PushError } from "../src/push/errors.ts";
import { ConnectionResetError, TransportError } from "../src/transport/errors.ts";

test("every error is named after its class, has its code and facts, and is a WireframeBaseError", () => {
  const cases: [WireframeBaseError, string, string, Record<string, unknown>][] = [
    [new FrameTooLargeError(2000, 1024), "FrameTooLargeError", "ERR_FRAME_TOO_LARGE", {
      frameLength: 2000,
      maxFrameLength: 1024,
    }],
    [new MessageTooLargeError(3, 5000, 4096), "MessageTooLargeError", "ERR_MESSAGE_TOO_LARGE", {
      msgId: 3,
      messageSize: 5000,
      maxMessageSize: 4096,
    }],
    [new CorrelationMismatchError(1n, 2n), "CorrelationMismatchError", "ERR_CORRELATION_MISMATCH", {
      expected: 1n,
      received: 2n,
    }],
    [new ConfigError("port", "bad port"), "ConfigError", "ERR_CONFIG", { option: "port" }],
    [new EnvelopeError("invalid-id", "bad id"), "EnvelopeError", "ERR_MALFORMED_ENVELOPE", {
      reason: "invalid-id",
    }],
    [new PushError("rate-limited"), "PushError", "ERR_PUSH_RATE_LIMITED", {
      reason: "rate-limited",
    }],
    [new ConnectionResetError(), "ConnectionResetError", "ERR_CONNECTION_RESET", {}],
  ];
  for (const [error, name, code, facts] of cases) {
    assert.ok(error instanceof WireframeBaseError && error instanceof Error, name);
    assert.equal(error.name, name);
    assert.equal(error.code, code);
    for (const [field, value] of Object.entries(facts)) {
      assert.equal((error as unknown as Record<string, unknown>)[field], value, `${name}.${field}`);
    }
  }
  assert.ok(new FrameTooLargeError(1, 0) instanceof CodecError);
  assert.ok(new MalformedFragmentError("reserved-flags", "bits") instanceof FragmentError);
  assert.ok(new ConnectionResetError() instanceof TransportError);
});

test("an error given no cause, or an undefined one, has no cause property; a given cause is kept", () => {
  const root = new Error("root");
  for (
    const error of [
      new ConnectionLostError(),
      new ConnectionLostError("lost", undefined),
      new TransportError("ERR_TRANSPORT", "failed", { cause: undefined }),
      WireframeError.protocol("value"),
    ]
  ) {
    assert.equal(Object.hasOwn(error, "cause"), false, error.name);
  }
  assert.equal(new ConnectionLostError("lost", root).cause, root);
  assert.equal(new ConnectionResetError(undefined, { cause: root }).cause, root);
  assert.equal(WireframeError.io(root).cause, root);
});
