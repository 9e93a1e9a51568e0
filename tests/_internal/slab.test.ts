import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Slab } from "../../src/_internal/slab.ts";

test("regions a slab hands out have the size asked for and never overlap, however they are sized", () => {
  const request = fc.record({ size: fc.nat({ max: 300 }), hint: fc.nat({ max: 2000 }) });
  fc.assert(fc.property(fc.array(request, { maxLength: 40 }), (requests) => {
    const slab = new Slab(256, 1024);
    const taken = requests.map(({ size, hint }, i) => {
      const region = slab.take(size, hint);
      assert.equal(region.length, size);
      region.fill(i & 0xff);
      return region;
    });
    // Writing each region after the others were handed out changed none of them.
    taken.forEach((region, i) => assert.ok(region.every((byte) => byte === (i & 0xff))));
  }));
});

test("regions follow each other in one slab until it is full, then a new slab begins", () => {
  const slab = new Slab(100);
  const a = slab.take(40);
  const b = slab.take(60);
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.byteOffset, a.byteOffset + 40);
  const c = slab.take(1);
  assert.notEqual(c.buffer, a.buffer);
  assert.equal(c.byteOffset, 0);
  assert.equal(c.buffer.byteLength, 100);
});

test("a new slab is sized by the hint within [minSize, maxSize], and never smaller than the region", () => {
  const sizes = (minSize: number, maxSize: number, size: number, hint?: number) =>
    new Slab(minSize, maxSize).take(size, hint).buffer.byteLength;
  assert.equal(sizes(64, 1024, 10), 64); // no hint: the region's size, raised to minSize
  assert.equal(sizes(64, 1024, 10, 500), 500); // a hint within the bounds
  assert.equal(sizes(64, 1024, 10, 5000), 1024); // a hint above maxSize
  assert.equal(sizes(64, 1024, 10, 1), 64); // a hint below minSize
  assert.equal(sizes(64, 1024, 3000, 5000), 3000); // a region larger than maxSize
  assert.equal(sizes(64, 64, 3000), 3000); // one size: max(minSize, size)
});

test("an empty region takes no room and begins no slab", () => {
  const slab = new Slab(8);
  assert.equal(slab.take(0).length, 0);
  const full = slab.take(8);
  const empty = slab.take(0);
  assert.equal(empty.length, 0);
  assert.equal(empty.buffer, full.buffer);
});
