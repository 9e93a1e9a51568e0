/**
 * Fragmentation as an app or a client configures it, validated once when it
 * is configured, so every connection can build its fragmenter and
 * re-assembler without checking again.
 *
 * @module
 */
import { maxMsgIdOf, singleFragmentOf } from "../fragment/_strategy_checks.ts";
import {
  type ReassemblyLimits,
  type ReassemblyOptions,
  resolveReassemblyOptions,
} from "../fragment/options.ts";
import type { FragmentStrategy } from "../fragment/types.ts";
import { Fragmenter } from "../fragment/fragmenter.ts";

/** A fragment strategy with its re-assembly limits, both already validated. */
export interface FragmentationSpec {
  /** How messages are split into fragments and fragments are recognised. */
  readonly strategy: FragmentStrategy;
  /** Re-assembly limits with every default applied. */
  readonly limits: ReassemblyLimits;
}

/**
 * Validate `strategy`'s fast path and `limits` now, at configuration time
 * (a `ConfigError` names `owner` and the option), not at the first connection.
 */
export function fragmentationSpec(
  owner: string,
  strategy: FragmentStrategy,
  limits: ReassemblyOptions | undefined,
): FragmentationSpec {
  singleFragmentOf(owner, strategy);
  maxMsgIdOf(owner, strategy);
  return Object.freeze({ strategy, limits: resolveReassemblyOptions(owner, limits) });
}

/**
 * The fragmentation of one connection: `spec` itself, or, for a strategy
 * with per-connection state (`strategy.forConnection`), `spec` with a fresh
 * instance that the connection's fragmenter and re-assembler share.
 */
export function connectionFragmentation(spec: FragmentationSpec): FragmentationSpec;
export function connectionFragmentation(
  spec: FragmentationSpec | undefined,
): FragmentationSpec | undefined;
export function connectionFragmentation(
  spec: FragmentationSpec | undefined,
): FragmentationSpec | undefined {
  const forConnection = spec?.strategy.forConnection;
  if (spec === undefined || forConnection === undefined) return spec;
  return { strategy: forConnection.call(spec.strategy), limits: spec.limits };
}

/** A fresh fragmenter for one outbound stream (it numbers that stream's messages). */
export function createFragmenter(spec: FragmentationSpec): Fragmenter {
  return new Fragmenter(spec.strategy, { maxMessageSize: spec.limits.maxMessageSize });
}
