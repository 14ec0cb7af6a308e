/**
 * A pool's metrics, named as OpenTelemetry's database client metrics name them
 * (https://opentelemetry.io/docs/specs/semconv/database/database-metrics/), each series labelled
 * with `db.client.connection.pool.name` and the pool's server.
 *
 * What the pool already counts (connections idle and used, borrowers waiting, opened, closed) is
 * read when a snapshot is taken, so borrowing and returning a connection cost nothing more. What
 * happens once per event (a connection opened, a wait, a failure) is recorded when it happens.
 */
import type { Endpoint } from "@effect-mysql/transport"
import { Context, Metric } from "effect"
import { serverLabels } from "./Telemetry.ts"

/** Seconds, from a millisecond to ten seconds: the buckets OpenTelemetry advises for durations. */
const durationBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const connectionCount = Metric.gauge("db.client.connection.count", {
  description: "Connections open, by state (idle or used)"
})
const pendingRequests = Metric.gauge("db.client.connection.pending_requests", {
  description: "Borrowers waiting for a connection"
})
const maxConnections = Metric.gauge("db.client.connection.max", { description: "maxConnections" })
const minIdle = Metric.gauge("db.client.connection.idle.min", { description: "minConnections" })
const opened = Metric.counter("db.client.connection.opened", {
  description: "Connections the pool opened",
  incremental: true
})
const closed = Metric.counter("db.client.connection.closed", {
  description: "Connections the pool closed",
  incremental: true
})
const openFailures = Metric.counter("db.client.connection.open_failures", {
  description: "Connections the pool failed to open",
  incremental: true
})
const timeouts = Metric.counter("db.client.connection.timeouts", {
  description: "Borrows that ended in a PoolTimeoutError",
  incremental: true
})
const createTime = Metric.histogram("db.client.connection.create_time", {
  description: "Seconds to open a connection (TCP, TLS, authentication, set-up)",
  boundaries: durationBoundaries
})
const waitTime = Metric.histogram("db.client.connection.wait_time", {
  description: "Seconds a borrow waited for a connection when none was ready at once",
  boundaries: durationBoundaries
})

/** What the pool counts, read at snapshot time. */
export interface PoolCounts {
  readonly idle: () => number
  readonly used: () => number
  readonly pending: () => number
  readonly opened: () => number
  readonly closed: () => number
  readonly min: number
  readonly max: number
}

export interface PoolMetrics {
  /** `db.client.connection.pool.name`: the base name, with `#2`, `#3`… for a second pool of it. */
  readonly name: string
  readonly connectionOpened: (seconds: number) => void
  readonly openFailed: () => void
  readonly waited: (seconds: number) => void
  readonly timedOut: () => void
  /** Takes the series read from the pool out of the registry, and frees its name, when the pool closes. */
  readonly remove: () => void
}

/** The name OpenTelemetry recommends for a pool: its server and database. */
export const poolName = (endpoint: Endpoint.Endpoint, database: string | undefined): string => {
  const server = endpoint._tag === "Tcp" ? `${endpoint.host}:${endpoint.port}` : endpoint.path
  return database === undefined ? server : `${server}/${database}`
}

/**
 * The names of each registry's open pools. A pool name must be unique within an application: two
 * pools with one name would share the series read from them, and the second would hide the first.
 */
const openPools = new WeakMap<object, Set<string>>()

const uniqueName = (registry: object, base: string): { readonly name: string; readonly release: () => void } => {
  let names = openPools.get(registry)
  if (names === undefined) {
    names = new Set()
    openPools.set(registry, names)
  }
  let name = base
  for (let n = 2; names.has(name); n++) name = `${base}#${n}`
  names.add(name)
  return { name, release: () => names.delete(name) }
}

const gauge = (value: () => number): Metric.Metric.Hooks<number, Metric.GaugeState<number>> => ({
  get: () => ({ value: value() }),
  update: () => {},
  modify: () => {}
})

const counter = (count: () => number): Metric.Metric.Hooks<number, Metric.CounterState<number>> => ({
  get: () => ({ count: count(), incremental: true }),
  update: () => {},
  modify: () => {}
})

/** Registers a pool's series in the registry of `context`, under `base` or the first free `base#n`. */
export const make = (
  context: Context.Context<never>,
  base: string,
  endpoint: Endpoint.Endpoint,
  counts: PoolCounts
): PoolMetrics => {
  const { name, release } = uniqueName(Context.get(context, Metric.MetricRegistry), base)
  const labels = { "db.client.connection.pool.name": name, ...serverLabels(endpoint) }
  const labelled = <I, S>(metric: Metric.Metric<I, S>, extra?: Metric.Metric.Attributes) =>
    Metric.withAttributes(metric, extra === undefined ? labels : { ...labels, ...extra })
  const registrations = [
    Metric.registerUnsafe(
      labelled(connectionCount, { "db.client.connection.state": "idle" }),
      context,
      gauge(counts.idle)
    ),
    Metric.registerUnsafe(
      labelled(connectionCount, { "db.client.connection.state": "used" }),
      context,
      gauge(counts.used)
    ),
    Metric.registerUnsafe(labelled(pendingRequests), context, gauge(counts.pending)),
    Metric.registerUnsafe(
      labelled(maxConnections),
      context,
      gauge(() => counts.max)
    ),
    Metric.registerUnsafe(
      labelled(minIdle),
      context,
      gauge(() => counts.min)
    ),
    Metric.registerUnsafe(labelled(opened), context, counter(counts.opened)),
    Metric.registerUnsafe(labelled(closed), context, counter(counts.closed))
  ]
  const failures = labelled(openFailures)
  const timeoutCount = labelled(timeouts)
  const creates = labelled(createTime)
  const waits = labelled(waitTime)
  // The event series stay after the pool closes: what they counted happened.
  return {
    name,
    connectionOpened: (seconds) => creates.updateUnsafe(seconds, context),
    openFailed: () => failures.updateUnsafe(1, context),
    waited: (seconds) => waits.updateUnsafe(seconds, context),
    timedOut: () => timeoutCount.updateUnsafe(1, context),
    remove: () => {
      for (const registration of registrations) registration.remove()
      release()
    }
  }
}
