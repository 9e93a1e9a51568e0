/**
 * The errors of the cluster bus and the cluster-wide registry.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * The bus cannot reach its broker (Redis) now: it is down, restarting, or
 * the connection is being re-established. Nothing was sent to other nodes
 * (local delivery, if any, already happened). Counted in
 * `bus.stats().unavailable`. Retry later, or treat the remote part as lost.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClusterUnavailableError } from "@wireframe/wireframe/cluster";
 *
 * const error = new ClusterUnavailableError("publish", new Error("connection refused"));
 * assert.equal(error.code, "ERR_CLUSTER_UNAVAILABLE");
 * assert.equal(error.operation, "publish");
 * ```
 */
export class ClusterUnavailableError extends WireframeBaseError {
  /** What could not be done: `"publish"`, `"request"`, `"gather"`, `"connect"`. */
  readonly operation: string;

  /**
   * Create the error.
   *
   * @param operation what could not be done
   * @param cause the client's error, if any
   */
  constructor(operation: string, cause?: unknown) {
    super(
      "ERR_CLUSTER_UNAVAILABLE",
      `cluster bus unavailable: could not ${operation} (the broker is unreachable)`,
      { cause },
    );
    this.operation = operation;
  }
}

/**
 * A request got no reply within its timeout. The target may still have
 * acted on it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClusterTimeoutError } from "@wireframe/wireframe/cluster";
 *
 * const error = new ClusterTimeoutError("_wf.push", "node-b", 1_000);
 * assert.equal(error.code, "ERR_CLUSTER_TIMEOUT");
 * assert.match(error.message, /node-b.*1000 ms/);
 * ```
 */
export class ClusterTimeoutError extends WireframeBaseError {
  /** The request's channel. */
  readonly channel: string;
  /** The node asked. */
  readonly nodeId: string;
  /** The timeout that passed, in ms. */
  readonly timeoutMs: number;

  /**
   * Create the error.
   *
   * @param channel the request's channel
   * @param nodeId the node asked
   * @param timeoutMs the timeout that passed
   */
  constructor(channel: string, nodeId: string, timeoutMs: number) {
    super(
      "ERR_CLUSTER_TIMEOUT",
      `no reply to "${channel}" from node ${nodeId} within ${timeoutMs} ms`,
    );
    this.channel = channel;
    this.nodeId = nodeId;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Why a request failed although the broker was up:
 * - `"no-node"` — no node with that id is subscribed (it is gone, or never was);
 * - `"node-down"` — the node was declared down while the request waited;
 * - `"no-responder"` — the node has no responder for the channel;
 * - `"handler-failed"` — the responder threw (its message is in `message`).
 */
export type ClusterRequestFailure = "no-node" | "node-down" | "no-responder" | "handler-failed";

/**
 * A request reached the broker but not a working responder; `reason` says why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClusterRequestError } from "@wireframe/wireframe/cluster";
 *
 * const error = new ClusterRequestError("no-node", "_wf.push", "node-b");
 * assert.equal(error.code, "ERR_CLUSTER_REQUEST");
 * assert.equal(error.reason, "no-node");
 * ```
 */
export class ClusterRequestError extends WireframeBaseError {
  /** Why the request failed. */
  readonly reason: ClusterRequestFailure;
  /** The request's channel. */
  readonly channel: string;
  /** The node asked. */
  readonly nodeId: string;

  /**
   * Create the error.
   *
   * @param reason why the request failed
   * @param channel the request's channel
   * @param nodeId the node asked
   * @param detail the responder's error message (`"handler-failed"`)
   */
  constructor(reason: ClusterRequestFailure, channel: string, nodeId: string, detail?: string) {
    super(
      "ERR_CLUSTER_REQUEST",
      `request "${channel}" to node ${nodeId} failed: ${reason}${detail ? ` (${detail})` : ""}`,
    );
    this.reason = reason;
    this.channel = channel;
    this.nodeId = nodeId;
  }
}

/**
 * Another live process already holds this node id (`RedisBus.connect` with
 * an explicit `nodeId`). Node ids must be unique across the cluster; the
 * default, a random id per process, always is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NodeIdTakenError } from "@wireframe/wireframe/cluster";
 *
 * assert.equal(new NodeIdTakenError("node-a").code, "ERR_NODE_ID_TAKEN");
 * ```
 */
export class NodeIdTakenError extends WireframeBaseError {
  /** The id asked for. */
  readonly nodeId: string;

  /**
   * Create the error.
   *
   * @param nodeId the id asked for
   */
  constructor(nodeId: string) {
    super("ERR_NODE_ID_TAKEN", `node id "${nodeId}" is held by another live node`);
    this.nodeId = nodeId;
  }
}

/**
 * Bytes from the broker that are not a bus message (another program
 * publishing on the bus's channels, or a different version). Dropped and
 * counted in `bus.stats().malformed`; never thrown to user code.
 */
export class MalformedBusMessageError extends WireframeBaseError {
  /**
   * Create the error.
   *
   * @param detail what is wrong
   */
  constructor(detail: string) {
    super("ERR_MALFORMED_BUS_MESSAGE", `malformed cluster bus message: ${detail}`);
  }
}
