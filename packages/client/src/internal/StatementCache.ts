/**
 * The prepared statements of one connection, by SQL text, least recently used first out. The
 * caller closes what `set` evicts (COM_STMT_CLOSE), so the server never holds more than `capacity`.
 */
import type { ColumnDefinition } from "@effect-mysql/protocol"

export interface Statement {
  readonly id: number
  readonly sql: string
  readonly params: ReadonlyArray<ColumnDefinition>
  readonly columns: ReadonlyArray<ColumnDefinition>
}

export class StatementCache {
  private readonly capacity: number
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  private readonly statements = new Map<string, Statement>()

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get size(): number {
    return this.statements.size
  }

  get(sql: string): Statement | undefined {
    const statement = this.statements.get(sql)
    if (statement !== undefined) {
      this.statements.delete(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** Adds a statement; answers the statements evicted to make room (to be closed). */
  set(statement: Statement): ReadonlyArray<Statement> {
    if (this.capacity === 0) return [statement]
    this.statements.set(statement.sql, statement)
    const evicted: Array<Statement> = []
    for (const [sql, oldest] of this.statements) {
      if (this.statements.size <= this.capacity) break
      this.statements.delete(sql)
      evicted.push(oldest)
    }
    return evicted
  }

  /** Forgets every statement (the server dropped them: reset, change user). */
  clear(): void {
    this.statements.clear()
  }
}
