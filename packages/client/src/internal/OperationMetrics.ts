/**
 * `db.client.operation.duration`, OpenTelemetry's statement-duration histogram
 * (https://opentelemetry.io/docs/specs/semconv/database/database-metrics/): the seconds from
 * sending a statement to its last result, labelled as its span is (system, namespace, server,
 * operation, and on failure `error.type` and `db.response.status_code`).
 *
 * It is recorded for every statement, tracer or not, so it has to be cheap: a labelled series is
 * made once per connection and label set and kept, and a statement then costs a clock read at each
 * end, two map lookups and the histogram's bucket search. No attributes object is built per
 * statement.
 */
import { Metric } from "effect"
import type { ConnectionInfo } from "../MysqlConnection.ts"
import { serverLabels } from "./Telemetry.ts"

/** Seconds, the buckets the conventions advise for this histogram. */
const boundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]

const operationDuration = Metric.histogram("db.client.operation.duration", {
  description: "Seconds a statement took, from sending it to its last result",
  boundaries
})

type Series = Metric.Metric<number, Metric.HistogramState>

/** How a statement ended, as its labels: nothing on success, `error.type` (and the errno) on failure. */
export type Outcome = Readonly<Record<string, string>> | undefined

/** The histogram of one client: the same database for every statement, the server per connection. */
export interface OperationMetrics {
  readonly series: (info: ConnectionInfo, operation: string | undefined, outcome: Outcome) => Series
}

export const make = (database: string | undefined): OperationMetrics => {
  // Keyed by the connection's info, so a closed connection's entry goes with it.
  const byConnection = new WeakMap<ConnectionInfo, Map<string, Series>>()
  return {
    series: (info, operation, outcome) => {
      let labelled = byConnection.get(info)
      if (labelled === undefined) {
        labelled = new Map()
        byConnection.set(info, labelled)
      }
      const key = outcome === undefined ? (operation ?? "") : `${operation ?? ""}\u0000${outcome["error.type"]}`
      let series = labelled.get(key)
      if (series === undefined) {
        series = Metric.withAttributes(operationDuration, {
          "db.system.name": info.flavor,
          ...(database === undefined ? {} : { "db.namespace": database }),
          ...serverLabels(info.endpoint),
          ...(operation === undefined ? {} : { "db.operation.name": operation }),
          ...outcome
        })
        labelled.set(key, series)
      }
      return series
    }
  }
}
