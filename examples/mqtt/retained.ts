/**
 * Retained messages (§3.3.1.3): the last retained message per topic; a
 * retained PUBLISH with an empty payload deletes it [MQTT-3.3.1-10].
 *
 * @module
 */
import type { Message } from "./packets.ts";
import { topicMatches } from "./topics.ts";

/** The retained message of each topic, in memory. */
export class RetainedStore {
  readonly #byTopic = new Map<string, Message>();

  /** Number of topics with a retained message. */
  get size(): number {
    return this.#byTopic.size;
  }

  /** Keep `message` as its topic's retained message, or delete it if the payload is empty. */
  retain(message: Message): void {
    if (message.payload.length === 0) this.#byTopic.delete(message.topic);
    else this.#byTopic.set(message.topic, { ...message, payload: message.payload.slice() });
  }

  /** The retained messages whose topics `filter` matches. */
  matching(filter: string): Message[] {
    const found: Message[] = [];
    if (!filter.includes("+") && !filter.includes("#")) {
      const message = this.#byTopic.get(filter);
      if (message !== undefined) found.push(message);
      return found;
    }
    for (const [topic, message] of this.#byTopic) {
      if (topicMatches(filter, topic)) found.push(message);
    }
    return found;
  }
}
