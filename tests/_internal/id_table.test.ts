/**
 * IdTable: the server's connections by id, as a Map would hold them (size,
 * replacing a value, deleting an id absent or present, insertion order).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { IdTable } from "../../src/_internal/id_table.ts";

test("IdTable agrees with a Map under any sequence of sets and deletes, values in the order their ids were first set", () => {
  const op = fc.record({ del: fc.boolean(), id: fc.nat({ max: 5000 }), value: fc.string() });
  fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
    const table = new IdTable<string>();
    const model = new Map<number, string>();
    for (const { del, id, value } of ops) {
      if (del) assert.equal(table.delete(id), model.delete(id));
      else {
        table.set(id, value);
        model.set(id, value);
      }
      assert.equal(table.size, model.size);
      assert.equal(table.get(id), model.get(id));
    }
    const expected = [...model.values()];
    assert.deepEqual(table.values(), expected);
  }));
});

test("IdTable.values() is a copy: deleting while walking it skips nothing", () => {
  const table = new IdTable<number>();
  for (let id = 0; id < 10; id++) table.set(id, id);
  const seen: number[] = [];
  for (const value of table.values()) {
    seen.push(value);
    table.delete(value + 1);
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(table.size, 1);
});
