/**
 * Retained messages (§3.3.1.3): the last retained message per topic; a
 * retained PUBLISH with an empty payload deletes it. Topics are kept in a
 * tree of levels, so a new subscription visits only the branches its filter
 * can match (`+`: every child, `#`: the whole branch), not every retained
 * topic.
 *
 * @module
 */
import type { Message } from "./packets.ts";

interface Level {
  readonly children: Map<string, Level>;
  message: Message | undefined;
}

const level = (): Level => ({ children: new Map(), message: undefined });

/** The retained message of each topic, in memory. */
export class RetainedStore {
  readonly #root: Level = level();
  #size = 0;

  /** Number of topics with a retained message. */
  get size(): number {
    return this.#size;
  }

  /** Keep `message` as its topic's retained message, or delete it if the payload is empty. */
  retain(message: Message): void {
    const levels = message.topic.split("/");
    if (message.payload.length === 0) {
      this.#delete(this.#root, levels, 0);
      return;
    }
    let at = this.#root;
    for (const name of levels) {
      let next = at.children.get(name);
      if (next === undefined) at.children.set(name, next = level());
      at = next;
    }
    if (at.message === undefined) this.#size++;
    at.message = { ...message, payload: message.payload.slice() };
  }

  // Remove the message at levels[i..]; prune levels left empty. Returns whether `at` is empty.
  #delete(at: Level, levels: string[], i: number): boolean {
    if (i === levels.length) {
      if (at.message !== undefined) {
        at.message = undefined;
        this.#size--;
      }
    } else {
      const next = at.children.get(levels[i]!);
      if (next !== undefined && this.#delete(next, levels, i + 1)) at.children.delete(levels[i]!);
    }
    return at.message === undefined && at.children.size === 0;
  }

  /** The retained messages whose topics `filter` matches (a filter's leading wildcard skips `$`-topics). */
  matching(filter: string): Message[] {
    const found: Message[] = [];
    this.#match(this.#root, filter.split("/"), 0, found);
    return found;
  }

  #match(at: Level, levels: string[], i: number, found: Message[]): void {
    if (i === levels.length) {
      if (at.message !== undefined) found.push(at.message);
      return;
    }
    const name = levels[i]!;
    if (name === "#") {
      if (at.message !== undefined && i > 0) found.push(at.message); // "a/#" matches "a"
      for (const [child, next] of at.children) {
        if (i === 0 && child.startsWith("$")) continue;
        this.#all(next, found);
      }
      return;
    }
    if (name === "+") {
      for (const [child, next] of at.children) {
        if (i === 0 && child.startsWith("$")) continue;
        this.#match(next, levels, i + 1, found);
      }
      return;
    }
    const next = at.children.get(name);
    if (next !== undefined) this.#match(next, levels, i + 1, found);
  }

  #all(at: Level, found: Message[]): void {
    if (at.message !== undefined) found.push(at.message);
    for (const next of at.children.values()) this.#all(next, found);
  }
}
