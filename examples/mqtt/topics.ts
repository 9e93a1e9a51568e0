/**
 * Topic names and filters (§4.7): validation, matching with `+` and `#`,
 * `$`-topics, and a trie of subscriptions whose matching cost depends on the
 * topic's levels and the subscriptions that match it, not on how many
 * subscriptions there are on other topics.
 *
 * @module
 */
import { MalformedPacketError } from "./packets.ts";

/** Check a topic filter: at least one character; `#` only as the last level, `+` only as a whole level [MQTT-4.7.1-2, MQTT-4.7.1-3]. */
export function checkTopicFilter(filter: string): void {
  if (filter.length === 0) throw new MalformedPacketError("empty topic filter", "MQTT-4.7.3-1");
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      throw new MalformedPacketError(`misplaced "#" in "${filter}"`, "MQTT-4.7.1-2");
    }
    if (level.includes("+") && level !== "+") {
      throw new MalformedPacketError(`misplaced "+" in "${filter}"`, "MQTT-4.7.1-3");
    }
  }
}

/**
 * Whether `filter` matches `topic` (both valid). A filter starting with a
 * wildcard does not match a topic starting with `$` [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === "#") return true; // also matches the parent level: "a/#" matches "a"
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether every topic `narrow` matches is also matched by `broad` (both
 * valid filters): how an ACL entry decides that a whole subscription falls
 * inside it.
 */
export function filterWithin(narrow: string, broad: string): boolean {
  const n = narrow.split("/");
  const b = broad.split("/");
  const dollar = (level: string | undefined) => level !== undefined && level.startsWith("$");
  if (dollar(n[0]) && (b[0] === "+" || b[0] === "#")) return false;
  for (let i = 0; i < b.length; i++) {
    const level = b[i]!;
    if (level === "#") return true;
    const mine = n[i];
    if (mine === undefined) return false;
    if (mine === "#") return false; // broad stops matching where narrow still does
    if (level === "+") continue;
    if (mine !== level) return false; // a literal against "+" in narrow, or another literal
  }
  return n.length === b.length;
}

interface TrieNode<K, V> {
  readonly children: Map<string, TrieNode<K, V>>;
  plus: TrieNode<K, V> | undefined;
  hash: TrieNode<K, V> | undefined;
  /** The subscribers of the filter that ends here. */
  entries: Map<K, V> | undefined;
}

function node<K, V>(): TrieNode<K, V> {
  return { children: new Map(), plus: undefined, hash: undefined, entries: undefined };
}

/**
 * Subscriptions by topic filter, one level per trie node: `add(filter, key,
 * value)`, `remove(filter, key)`, and `match(topic, visit)`, which calls
 * `visit` once per filter that matches the topic with that filter's entries.
 */
export class TopicTrie<K, V> {
  readonly #root: TrieNode<K, V> = node();
  #filters = 0;

  /** Number of filters with at least one entry. */
  get size(): number {
    return this.#filters;
  }

  /** Set `key`'s value for `filter` (replacing a previous one). */
  add(filter: string, key: K, value: V): void {
    let at = this.#root;
    for (const level of filter.split("/")) {
      if (level === "+") at = at.plus ??= node();
      else if (level === "#") at = at.hash ??= node();
      else {
        let next = at.children.get(level);
        if (next === undefined) at.children.set(level, next = node());
        at = next;
      }
    }
    if (at.entries === undefined) {
      at.entries = new Map();
      this.#filters++;
    }
    at.entries.set(key, value);
  }

  /** Remove `key` from `filter`; returns whether it was there. Prunes empty nodes. */
  remove(filter: string, key: K): boolean {
    return this.#remove(this.#root, filter.split("/"), 0, key);
  }

  #remove(at: TrieNode<K, V>, levels: string[], i: number, key: K): boolean {
    if (i === levels.length) {
      if (at.entries?.delete(key) !== true) return false;
      if (at.entries.size === 0) {
        at.entries = undefined;
        this.#filters--;
      }
      return true;
    }
    const level = levels[i]!;
    const next = level === "+" ? at.plus : level === "#" ? at.hash : at.children.get(level);
    if (next === undefined || !this.#remove(next, levels, i + 1, key)) return false;
    if (next.entries === undefined && next.children.size === 0 && !next.plus && !next.hash) {
      if (level === "+") at.plus = undefined;
      else if (level === "#") at.hash = undefined;
      else at.children.delete(level);
    }
    return true;
  }

  /** Call `visit` with the entries of every filter that matches `topic`. */
  match(topic: string, visit: (entries: Map<K, V>) => void): void {
    const levels = topic.split("/");
    const root = this.#root;
    if (levels[0]!.startsWith("$")) { // [MQTT-4.7.2-1]: no leading wildcard
      const next = root.children.get(levels[0]!);
      if (next !== undefined) this.#walk(next, levels, 1, visit);
      return;
    }
    this.#walk(root, levels, 0, visit);
  }

  #walk(
    at: TrieNode<K, V>,
    levels: string[],
    i: number,
    visit: (entries: Map<K, V>) => void,
  ): void {
    const hash = at.hash?.entries;
    if (hash !== undefined) visit(hash);
    if (i === levels.length) {
      if (at.entries !== undefined) visit(at.entries);
      return;
    }
    const next = at.children.get(levels[i]!);
    if (next !== undefined) this.#walk(next, levels, i + 1, visit);
    if (at.plus !== undefined) this.#walk(at.plus, levels, i + 1, visit);
  }
}
