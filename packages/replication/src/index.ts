/**
 * @effect-mysql/replication: the binlog of MySQL and MariaDB as an Effect `Stream` of changes.
 */
export * as Replication from "./Replication.ts"
export * from "./ReplicationError.ts"
export type * from "./ReplicationEvent.ts"
