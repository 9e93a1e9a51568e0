/**
 * `SqlError`: what the engine refuses, with MySQL's error code and SQLSTATE,
 * sent to the client as an ERR packet.
 *
 * @module
 */

/** A statement failed; `code` and `sqlState` go into the ERR packet. */
export class SqlError extends Error {
  /** MySQL's error number, e.g. 1064. */
  readonly code: number;
  /** The five-character SQLSTATE, e.g. "42000". */
  readonly sqlState: string;

  /** Create the error. */
  constructor(code: number, sqlState: string, message: string) {
    super(message);
    this.name = "SqlError";
    this.code = code;
    this.sqlState = sqlState;
  }
}

/** 1064 42000: the statement is outside the subset, near `near`. */
export function syntaxError(near: string): SqlError {
  return new SqlError(
    1064,
    "42000",
    `You have an error in your SQL syntax; check the manual that corresponds to your ` +
      `wireframe example server version for the right syntax to use near '${near.slice(0, 80)}'`,
  );
}
