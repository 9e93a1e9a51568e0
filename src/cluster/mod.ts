/**
 * Beyond one process: a cluster bus between the nodes of a cluster
 * (`RedisBus` on Redis, `MemoryBusHub` inside one process), a cluster-wide
 * registry of live connections (`ClusterRegistry`).
 *
 * `RedisBus` needs the optional peer dependency `@redis/client` (6.3.1);
 * it is loaded only when a bus connects, so the rest of this module works
 * without it. See docs/guides/scaling.md.
 *
 * @module
 */
export type {
  BusHandler,
  BusMessage,
  BusResponder,
  BusState,
  BusStats,
  ClusterBus,
  GatherResult,
  NodeDownReason,
  NodeEvent,
  RequestOptions,
  Unsubscribe,
} from "./bus.ts";
export type { BusOptions } from "./bus_core.ts";
export {
  ClusterRequestError,
  type ClusterRequestFailure,
  ClusterTimeoutError,
  ClusterUnavailableError,
  MalformedBusMessageError,
  NodeIdTakenError,
} from "./errors.ts";
export { type ChannelMatcher, channelMatcher } from "./glob.ts";
export { MemoryBusHub } from "./memory_bus.ts";
export { RedisBus, type RedisBusOptions } from "./redis_bus.ts";
export {
  type ClusterBroadcastOptions,
  type ClusterBroadcastResult,
  type ClusterConnectionId,
  type ClusterListing,
  type ClusterPushOptions,
  ClusterRegistry,
  type ClusterRegistryOptions,
  type ClusterRegistryStats,
} from "./cluster_registry.ts";
export {
  Supervisor,
  type SupervisorOptions,
  type WorkerExit,
  type WorkerInfo,
} from "./supervisor.ts";
