/** Topic filters and the subscription trie (examples/mqtt/topics.ts), against a reference matcher. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkTopicFilter,
  filterWithin,
  topicMatches,
  TopicTrie,
} from "../../examples/mqtt/topics.ts";
import { checkFixedHeader } from "../../examples/mqtt/codec.ts";
import { RetainedStore } from "../../examples/mqtt/retained.ts";
import { MalformedPacketError } from "../../examples/mqtt/packets.ts";

// The spec's examples (§4.7.1.2, §4.7.1.3, §4.7.2).
const cases: [string, string, boolean][] = [
  ["sport/tennis/player1/#", "sport/tennis/player1", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
  ["sport/#", "sport", true],
  ["#", "anything/at/all", true],
  ["sport/tennis/+", "sport/tennis/player1", true],
  ["sport/tennis/+", "sport/tennis/player1/ranking", false],
  ["sport/+", "sport", false],
  ["sport/+", "sport/", true],
  ["+/+", "/finance", true],
  ["/+", "/finance", true],
  ["+", "/finance", false],
  ["#", "$SYS/uptime", false],
  ["+/monitor/Clients", "$SYS/monitor/Clients", false],
  ["$SYS/#", "$SYS/monitor/Clients", true],
  ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
];

test("topicMatches follows the standard's examples, $-topics included", () => {
  for (const [filter, topic, expected] of cases) {
    assert.equal(topicMatches(filter, topic), expected, `${filter} vs ${topic}`);
  }
});

test("checkTopicFilter refuses misplaced wildcards and the empty filter", () => {
  for (const ok of ["#", "+", "a/+/b", "a/#", "+/+", "/"]) checkTopicFilter(ok);
  for (const bad of ["", "a#", "a/#/b", "a+", "+a/b", "#/a"]) {
    assert.throws(() => checkTopicFilter(bad), MalformedPacketError, bad);
  }
});

const level = fc.constantFrom("a", "b", "$s", "");
const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join("/"))
  .filter((t) => t.length > 0);
const filterArb = fc.tuple(
  fc.array(fc.constantFrom("a", "b", "$s", "", "+"), { minLength: 1, maxLength: 4 }),
  fc.boolean(),
).map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
  .filter((f) => f.length > 0);

test("the trie visits exactly the filters that match, whatever else is subscribed", () => {
  fc.assert(
    fc.property(fc.uniqueArray(filterArb, { maxLength: 12 }), topicArb, (filters, topic) => {
      const trie = new TopicTrie<string, number>();
      for (const f of filters) trie.add(f, f, 1);
      const visited: string[] = [];
      trie.match(topic, (entries) => visited.push(...entries.keys()));
      assert.deepEqual(visited.sort(), filters.filter((f) => topicMatches(f, topic)).sort());
      for (const f of filters) assert.equal(trie.remove(f, f), true);
      assert.equal(trie.size, 0);
      const after: string[] = [];
      trie.match(topic, (entries) => after.push(...entries.keys()));
      assert.deepEqual(after, []);
    }),
  );
});

test("filterWithin holds exactly when every topic of the narrow filter matches the broad one", () => {
  const topics = fc.sample(topicArb, 300);
  fc.assert(fc.property(filterArb, filterArb, (narrow, broad) => {
    if (filterWithin(narrow, broad)) {
      for (const t of topics) if (topicMatches(narrow, t)) assert.ok(topicMatches(broad, t), t);
    }
  }));
  assert.equal(filterWithin("secret/a", "secret/#"), true);
  assert.equal(filterWithin("secret", "secret/#"), true);
  assert.equal(filterWithin("#", "secret/#"), false);
  assert.equal(filterWithin("a/+", "a/b"), false);
  assert.equal(filterWithin("$SYS/x", "#"), false);
});

test("the fixed-header check: reserved types, QoS 3, and the flags each type must carry", () => {
  const ok = [
    0x10,
    0x20,
    0x30,
    0x3b,
    0x40,
    0x50,
    0x62,
    0x70,
    0x82,
    0x90,
    0xa2,
    0xb0,
    0xc0,
    0xd0,
    0xe0,
  ];
  for (const b of ok) assert.equal(checkFixedHeader(Uint8Array.of(b)), undefined, b.toString(16));
  for (const b of [0x00, 0xf0, 0x36, 0x11, 0x60, 0x80, 0xa0, 0xc1, 0xe2]) {
    assert.equal(typeof checkFixedHeader(Uint8Array.of(b)), "string", b.toString(16));
  }
});

test("the retained store finds exactly the retained topics a filter matches, and forgets deleted ones", () => {
  const payload = Uint8Array.of(1);
  fc.assert(
    fc.property(
      fc.uniqueArray(topicArb, { maxLength: 12 }),
      filterArb,
      fc.nat(),
      (topics, filter, cut) => {
        const store = new RetainedStore();
        for (const topic of topics) store.retain({ topic, payload, qos: 0, retain: true });
        const deleted = topics.slice(0, cut % (topics.length + 1));
        for (const topic of deleted) {
          store.retain({
            topic,
            payload: new Uint8Array(0),
            qos: 0,
            retain: true,
          });
        }
        const kept = topics.filter((t) => !deleted.includes(t));
        assert.equal(store.size, kept.length);
        const found = store.matching(filter).map((m) => m.topic).sort();
        assert.deepEqual(found, kept.filter((t) => topicMatches(filter, t)).sort());
      },
    ),
  );
});
