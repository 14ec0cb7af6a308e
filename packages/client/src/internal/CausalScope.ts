/**
 * What a replica read waits for under read-your-writes: the writes of the client, or, inside
 * `MysqlClient.withCausalScope`, the writes made inside that scope only (a request's own writes,
 * not every request's). A scope is carried in the fiber's context, so the fibers it forks share it.
 */
import { Context } from "effect"
import type { MysqlConnection } from "../MysqlConnection.ts"
import { GtidPosition } from "./GtidPosition.ts"

/** The commits noted in one scope (or in the whole client), as a position a replica must reach. */
export class WriteLog {
  private position: GtidPosition | undefined = undefined

  /** Notes `gtid`, the commit `connection` reported. */
  note(connection: MysqlConnection, gtid: string): void {
    this.position ??= new GtidPosition(connection.info.flavor)
    this.position.add(gtid)
  }

  /** What a replica read must have applied first; undefined when nothing was written. */
  required(): GtidPosition | undefined {
    return this.position === undefined || this.position.isEmpty ? undefined : this.position.snapshot()
  }
}

/** The fiber's causal scope; undefined outside one, where the client's own log applies. */
export const CausalScope: Context.Reference<WriteLog | undefined> = Context.Reference<WriteLog | undefined>(
  "@effect-mysql/client/CausalScope",
  { defaultValue: () => undefined }
)
