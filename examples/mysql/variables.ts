/**
 * System variables: their defaults, which are booleans, and how a session
 * overrides them.
 *
 * @module
 */
import type { SqlValue } from "./packets.ts";
import { SqlError } from "./sql_error.ts";

/** The server version the handshake and `VERSION()` report. */
export const SERVER_VERSION = "8.0.35-wireframe";

const BOOLEANS = new Set([
  "autocommit",
  "session_track_schema",
  "session_track_state_change",
  "sql_auto_is_null",
  "transaction_read_only",
  "tx_read_only",
  "unique_checks",
  "foreign_key_checks",
  "sql_safe_updates",
  "big_tables",
]);

/** Defaults; numbers are integers, booleans 0/1. */
export const SYSTEM_DEFAULTS: ReadonlyMap<string, string | number> = new Map<
  string,
  string | number
>([
  ["autocommit", 1],
  ["auto_increment_increment", 1],
  ["auto_increment_offset", 1],
  ["big_tables", 0],
  ["character_set_client", "utf8mb4"],
  ["character_set_connection", "utf8mb4"],
  ["character_set_database", "utf8mb4"],
  ["character_set_results", "utf8mb4"],
  ["character_set_server", "utf8mb4"],
  ["character_set_system", "utf8mb3"],
  ["collation_connection", "utf8mb4_general_ci"],
  ["collation_database", "utf8mb4_general_ci"],
  ["collation_server", "utf8mb4_general_ci"],
  ["default_storage_engine", "InMemory"],
  ["foreign_key_checks", 1],
  ["init_connect", ""],
  ["interactive_timeout", 28800],
  ["license", "MIT"],
  ["lower_case_table_names", 2],
  ["max_allowed_packet", 67108864],
  ["net_buffer_length", 16384],
  ["net_read_timeout", 30],
  ["net_write_timeout", 60],
  ["performance_schema", 0],
  ["query_cache_size", 0],
  ["query_cache_type", "OFF"],
  ["session_track_schema", 1],
  ["session_track_state_change", 0],
  [
    "session_track_system_variables",
    "autocommit,character_set_client,character_set_connection,character_set_results,time_zone",
  ],
  ["session_track_transaction_info", "OFF"],
  ["sql_auto_is_null", 0],
  ["sql_mode", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"],
  ["sql_safe_updates", 0],
  ["sql_select_limit", "18446744073709551615"],
  ["system_time_zone", "UTC"],
  ["time_zone", "SYSTEM"],
  ["transaction_isolation", "REPEATABLE-READ"],
  ["transaction_read_only", 0],
  ["tx_isolation", "REPEATABLE-READ"],
  ["tx_read_only", 0],
  ["unique_checks", 1],
  ["version", "8.0.35-wireframe"],
  ["version_comment", "Wireframe MySQL-protocol example"],
  ["wait_timeout", 28800],
]);

/** A session's view of the system variables: the defaults under its own SETs. */
export class SessionVariables {
  readonly #own = new Map<string, string | number>();

  /**
   * The value of `name` (lower case).
   *
   * @throws {SqlError} 1193 for an unknown variable
   */
  get(name: string): string | number {
    const value = this.#own.get(name) ?? SYSTEM_DEFAULTS.get(name);
    if (value === undefined) {
      throw new SqlError(1193, "HY000", `Unknown system variable '${name}'`);
    }
    return value;
  }

  /** True for an ON/OFF variable. */
  isBoolean(name: string): boolean {
    return BOOLEANS.has(name);
  }

  /** The value as SHOW VARIABLES and the session tracker write it (ON/OFF for booleans). */
  text(name: string): string {
    const value = this.get(name);
    return this.isBoolean(name) ? (value ? "ON" : "OFF") : String(value);
  }

  /**
   * Set `name` to `value` (`undefined`: DEFAULT); returns true if it changed.
   *
   * @throws {SqlError} 1193 unknown, 1231 a value a boolean cannot take
   */
  set(name: string, value: SqlValue | undefined): boolean {
    const before = this.get(name);
    let next: string | number;
    if (value === undefined) {
      next = SYSTEM_DEFAULTS.get(name)!;
    } else if (this.isBoolean(name)) {
      const text = String(value).toUpperCase();
      if (text === "ON" || text === "1" || text === "TRUE") next = 1;
      else if (text === "OFF" || text === "0" || text === "FALSE") next = 0;
      else {
        throw new SqlError(
          1231,
          "42000",
          `Variable '${name}' can't be set to the value of '${String(value)}'`,
        );
      }
    } else if (value === null) {
      next = "";
    } else {
      next = typeof value === "bigint" ? value.toString() : value;
    }
    this.#own.set(name, next);
    return before !== next;
  }

  /** Every name, sorted. */
  names(): string[] {
    return [...new Set([...SYSTEM_DEFAULTS.keys(), ...this.#own.keys()])].sort();
  }
}
