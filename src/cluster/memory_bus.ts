/**
 * `MemoryBusHub`: cluster buses joined inside one process, for tests and
 * examples — the same semantics as `RedisBus`, without a broker.
 *
 * @module
 */
import type { ClusterBus } from "./bus.ts";
import {
  BusCore,
  type BusOptions,
  type BusWire,
  parseBusOptions,
  randomNodeId,
} from "./bus_core.ts";
import { NodeIdTakenError } from "./errors.ts";

/**
 * An in-process broker. `connect()` returns a bus that reaches every other
 * bus of the same hub; `down = true` makes the hub unreachable (as a Redis
 * that stopped), `down = false` brings it back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryBusHub } from "@wireframe/wireframe/cluster";
 *
 * const hub = new MemoryBusHub();
 * await using a = hub.connect({ nodeId: "a" });
 * await using b = hub.connect({ nodeId: "b" });
 * const got = Promise.withResolvers<string>();
 * b.subscribe("news.*", (m) => got.resolve(`${m.origin} ${m.channel}`));
 * await a.publish("news.tech", new Uint8Array([1]));
 * assert.equal(await got.promise, "a news.tech");
 *
 * b.respond("time", () => new TextEncoder().encode("noon"));
 * const reply = await a.request("b", "time", new Uint8Array(0));
 * assert.equal(new TextDecoder().decode(reply), "noon");
 * ```
 */
export class MemoryBusHub {
  readonly #nodes = new Map<string, BusCore>();
  readonly #claims = new Map<string, number>();
  #down = false;

  /** True while the hub is unreachable. */
  get down(): boolean {
    return this.#down;
  }

  set down(down: boolean) {
    if (down === this.#down) return;
    this.#down = down;
    for (const core of this.#nodes.values()) {
      if (down) core.linkDown(new Error("the memory hub is down"));
      else core.linkUp();
    }
  }

  /**
   * A bus on this hub.
   * @throws {NodeIdTakenError} if a bus of this hub already has `nodeId`
   * @throws {ConfigError} for an invalid option
   */
  connect(options: BusOptions = {}): ClusterBus {
    const parsed = parseBusOptions("MemoryBusHub.connect", options);
    const nodeId = parsed.nodeId ?? randomNodeId();
    if (this.#nodes.has(nodeId)) throw new NodeIdTakenError(nodeId);
    const core = new BusCore(nodeId, parsed);
    this.#nodes.set(nodeId, core);
    const wire: BusWire = {
      sendAll: (bytes) => this.#send([...this.#nodes.values()], bytes),
      sendTo: (id, bytes) => {
        const target = this.#nodes.get(id);
        return this.#send(target ? [target] : [], bytes);
      },
      claim: (key, ttlMs) => {
        this.#check();
        const now = Date.now();
        if ((this.#claims.get(key) ?? 0) > now) return Promise.resolve(false);
        this.#claims.set(key, now + ttlMs);
        return Promise.resolve(true);
      },
      close: () => {
        this.#nodes.delete(nodeId);
        return Promise.resolve();
      },
    };
    core.attach(wire);
    if (this.#down) core.linkDown();
    return core;
  }

  #check(): void {
    if (this.#down) throw new Error("the memory hub is down");
  }

  #send(targets: BusCore[], bytes: Uint8Array): Promise<number> {
    try {
      this.#check();
    } catch (error) {
      return Promise.reject(error);
    }
    const copy = bytes.slice();
    // Asynchronous, in order, as a broker delivers.
    queueMicrotask(() => {
      for (const target of targets) target.receive(copy);
    });
    return Promise.resolve(targets.length);
  }
}
