/**
 * What one connection keeps per SQL text, least recently used first out: its prepared statements,
 * and the result shapes of its text statements. For prepared statements the caller closes what
 * `set` evicts (COM_STMT_CLOSE), so the server never holds more than `capacity`; with capacity 0
 * nothing is kept, and the caller closes each statement once it has run (see `holds`).
 */
import type { ColumnDefinition } from "@effect-mysql/protocol"
import type { StatementShapes } from "./ResultShapes.ts"

export interface Statement {
  readonly id: number
  readonly sql: string
  readonly params: ReadonlyArray<ColumnDefinition>
  readonly columns: ReadonlyArray<ColumnDefinition>
  readonly shapes: StatementShapes
}

export class StatementCache<V extends { readonly sql: string } = Statement> {
  private readonly capacity: number
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  private readonly statements = new Map<string, V>()

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get size(): number {
    return this.statements.size
  }

  get(sql: string): V | undefined {
    const statement = this.statements.get(sql)
    if (statement !== undefined) {
      this.statements.delete(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** Whether `statement` is the one kept for its SQL (without touching the order of use). */
  holds(statement: V): boolean {
    return this.statements.get(statement.sql) === statement
  }

  /** Adds a statement; answers the statements evicted to make room (to be closed). */
  set(statement: V): ReadonlyArray<V> {
    if (this.capacity === 0) return [statement]
    this.statements.set(statement.sql, statement)
    const evicted: Array<V> = []
    for (const [sql, oldest] of this.statements) {
      if (this.statements.size <= this.capacity) break
      this.statements.delete(sql)
      evicted.push(oldest)
    }
    return evicted
  }

  /** The entry for `sql`, made by `make` when there is none (text statements: nothing to close). */
  getOrAdd(sql: string, make: (sql: string) => V): V {
    const found = this.get(sql)
    if (found !== undefined) return found
    const made = make(sql)
    this.set(made)
    return made
  }

  /** Forgets every statement (the server dropped them: reset, change user). */
  clear(): void {
    this.statements.clear()
  }
}
