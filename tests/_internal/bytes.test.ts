import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes } from "../../src/_internal/bytes.ts";

test("concatBytes joins the parts in order into a new array", () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 8 }), (parts) => {
    const joined = concatBytes(parts);
    assert.deepEqual([...joined], parts.flatMap((part) => [...part]));
    for (const part of parts) if (part.length > 0) assert.notEqual(joined.buffer, part.buffer);
  }));
});
