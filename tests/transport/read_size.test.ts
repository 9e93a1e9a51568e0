import { test } from "node:test";
import assert from "node:assert/strict";
import { nextReadSize } from "../../src/transport/_deno_connection.ts";

const KiB = 1024;

test("a full read grows the next read fourfold, up to 64 KiB", () => {
  assert.equal(nextReadSize(2 * KiB, 2 * KiB), 8 * KiB);
  assert.equal(nextReadSize(8 * KiB, 8 * KiB), 32 * KiB);
  assert.equal(nextReadSize(32 * KiB, 32 * KiB), 64 * KiB);
  assert.equal(nextReadSize(64 * KiB, 64 * KiB), 64 * KiB);
});

test("a read that used a quarter or more keeps the size", () => {
  assert.equal(nextReadSize(16 * KiB, 64 * KiB), 64 * KiB);
  assert.equal(nextReadSize(60 * KiB, 64 * KiB), 64 * KiB);
});

test("a small read shrinks the buffer to twice what it needed, never under 2 KiB", () => {
  assert.equal(nextReadSize(100, 64 * KiB), 2 * KiB, "an idle or quiet connection holds 2 KiB");
  assert.equal(nextReadSize(5 * KiB, 64 * KiB), 16 * KiB);
  assert.equal(nextReadSize(10, 2 * KiB), 2 * KiB);
});
