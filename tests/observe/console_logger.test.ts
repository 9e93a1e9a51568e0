/** The console logger: one line per record and no stacks at warn; stacks at debug; levels filter. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { consoleLogger, createConsoleLogger, type LogLevel } from "../../src/observe/logger.ts";
import { EnvelopeError } from "../../src/codec/envelope.ts";
import { PreambleError } from "../../src/app/preamble.ts";

type Call = { method: LogLevel; args: unknown[] };

/** Run `body` with the four console methods replaced by recorders; restore them after. */
function captureConsole(body: () => void): Call[] {
  const calls: Call[] = [];
  const methods = ["debug", "info", "warn", "error"] as const;
  const saved = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => void calls.push({ method, args });
  }
  try {
    body();
  } finally {
    methods.forEach((method, i) => (console[method] = saved[i]!));
  }
  return calls;
}

const envelopeError = () => new EnvelopeError("reserved-flags", "reserved flag bits set (0x02)");

test("at warn an Error in the fields is one line: name, code and message, no stack", () => {
  const error = envelopeError();
  const calls = captureConsole(() =>
    consoleLogger.warn("connection failed", { connectionId: 7, error })
  );
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.method, "warn");
  assert.equal(calls[0]!.args.length, 1, "a single string, not the fields object");
  const line = calls[0]!.args[0] as string;
  assert.equal(
    line,
    `[wireframe] connection failed connectionId=7 error=${
      JSON.stringify(`EnvelopeError [${error.code}]: ${error.message}`)
    }`,
  );
  assert.ok(!line.includes("\n"), "one line");
  assert.ok(!line.includes(" at "), "no stack frames");
});

test("an Error without a code shows name and message; a cause is shown one level deep", () => {
  const plain = new TypeError("boom");
  const wrapped = new PreambleError(
    "invalid",
    "invalid preamble: bad magic",
    new Error("bad magic"),
  );
  const calls = captureConsole(() => {
    consoleLogger.error("request failed", { error: plain });
    consoleLogger.error("preamble onFailure failed", { error: wrapped });
  });
  assert.deepEqual(calls.map((c) => [c.method, c.args]), [
    ["error", ['[wireframe] request failed error="TypeError: boom"']],
    ["error", [
      `[wireframe] preamble onFailure failed error=${
        JSON.stringify(
          `PreambleError [${wrapped.code}]: invalid preamble: bad magic (cause: Error: bad magic)`,
        )
      }`,
    ]],
  ]);
});

test("other field values print on the same line: numbers bare, strings quoted, bigints with n", () => {
  const calls = captureConsole(() =>
    consoleLogger.warn("push queue full: frame dropped", {
      connectionId: 3,
      priority: "high",
      correlationId: 9n,
      nested: { error: new RangeError("deep") },
    })
  );
  assert.deepEqual(calls[0]!.args, [
    '[wireframe] push queue full: frame dropped connectionId=3 priority="high" correlationId=9n nested={"error":"RangeError: deep"}',
  ]);
});

test("the default logger drops debug and info and keeps warn and error", () => {
  const calls = captureConsole(() => {
    consoleLogger.debug("d");
    consoleLogger.info("i");
    consoleLogger.warn("w");
    consoleLogger.error("e");
  });
  assert.deepEqual(calls.map((c) => [c.method, c.args]), [
    ["warn", ["[wireframe] w"]],
    ["error", ["[wireframe] e"]],
  ]);
});

test("each level prints itself and what is more severe", () => {
  const levels: LogLevel[] = ["debug", "info", "warn", "error"];
  for (const level of levels) {
    const logger = createConsoleLogger({ level });
    const calls = captureConsole(() => levels.forEach((l) => logger[l](l)));
    assert.deepEqual(calls.map((c) => c.method), levels.slice(levels.indexOf(level)), level);
  }
});

test("at debug the fields go to the console as they are, so an Error prints with its stack", () => {
  const error = envelopeError();
  const logger = createConsoleLogger({ level: "debug" });
  const calls = captureConsole(() => {
    logger.debug("connection closed: protocol violation", { connectionId: 1, error });
    logger.warn("request failed", { error });
  });
  assert.deepEqual(calls.map((c) => c.method), ["debug", "warn"]);
  for (const call of calls) {
    assert.equal(call.args.length, 2);
    const fields = call.args[1] as { error: Error };
    assert.equal(fields.error, error, "the Error itself, which the console prints with its stack");
    assert.ok(typeof fields.error.stack === "string" && fields.error.stack.includes("\n"));
  }
});

test("an unknown level is refused, naming the option and the levels", () => {
  assert.throws(
    () => createConsoleLogger({ level: "verbose" as LogLevel }),
    /option "level" must be one of debug, info, warn, error \(got verbose\)/,
  );
});
