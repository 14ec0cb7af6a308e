/**
 * DATE, DATETIME, TIMESTAMP and TIME values: conversions between the wire's wall-clock fields,
 * `Date` (in a configured time zone) and the server's text format.
 *
 * MySQL: https://dev.mysql.com/doc/refman/8.4/en/date-and-time-types.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html (MYSQL_TIME)
 * MariaDB: https://mariadb.com/kb/en/resultset-row/#binary-resultset-row
 *
 * Pure functions; no IO.
 */
import { DateTime } from "effect"

/**
 * A resolved `timeZone` option: minutes east of UTC (`NaN`: the process's local zone), or a named
 * (IANA) zone whose offset depends on the instant (daylight saving time).
 */
export type Zone = number | DateTime.TimeZone.Named

const DAY = 86_400_000

/** Minutes east of UTC in `zone` at the instant `millis`. */
const namedOffset = (zone: DateTime.TimeZone.Named, millis: number): number =>
  DateTime.zonedOffset(DateTime.makeZonedUnsafe(millis, { timeZone: zone })) / 60_000

/**
 * The instant a wall-clock time (given as if it were UTC, `wall`) names in `zone`. Around a
 * transition a day holds at most one, so the offsets a day before and after are the only
 * candidates: a time that happens twice (clocks turned back) is the earlier instant, a time that
 * never happens (clocks turned forward) is read with the offset before the gap, so 02:30 in a gap
 * from 02:00 to 03:00 is 03:30; `Temporal`'s and effect's "compatible" choice.
 */
const namedInstant = (zone: DateTime.TimeZone.Named, wall: number): number => {
  const before = namedOffset(zone, wall - DAY)
  const after = namedOffset(zone, wall + DAY)
  const early = wall - before * 60_000
  if (before === after || namedOffset(zone, early) === before) return early
  const late = wall - after * 60_000
  return namedOffset(zone, late) === after ? late : early
}

/** Wall-clock fields of a DATE/DATETIME/TIMESTAMP. */
export interface DateTimeParts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly microsecond: number
}

/** Fields of a TIME: a signed duration of up to 838:59:59.999999 (MySQL) / 838:59:59.999999 (MariaDB). */
export interface TimeParts {
  readonly negative: boolean
  /** Whole hours, 0 to 838 (more in the binary form, where days are separate: days * 24 + hours). */
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
  readonly microsecond: number
}

/**
 * A `Date` for wall-clock fields in `zone`. Microseconds are truncated to milliseconds. Years 0-99
 * are kept as such (the `Date` constructor would map them to 1900-1999).
 */
export const toDate = (
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
  zone: Zone
): Date => {
  const ms = (microsecond / 1000) | 0
  if (typeof zone !== "number") {
    return new Date(namedInstant(zone, toDate(year, month, day, hour, minute, second, microsecond, 0).getTime()))
  }
  if (Number.isNaN(zone)) {
    if (year >= 100) return new Date(year, month - 1, day, hour, minute, second, ms)
    const d = new Date(2000, month - 1, day, hour, minute, second, ms)
    d.setFullYear(year)
    return d
  }
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  if (year < 100) {
    const d = new Date(t)
    d.setUTCFullYear(year)
    t = d.getTime()
  }
  return new Date(t - zone * 60000)
}

/** The wall-clock fields of `date` in `zone`. */
export const fromDate = (date: Date, zone: Zone): DateTimeParts => {
  if (typeof zone !== "number") return fromDate(date, namedOffset(zone, date.getTime()))
  if (Number.isNaN(zone)) {
    return {
      year: date.getFullYear(),
      month: date.getMonth() + 1,
      day: date.getDate(),
      hour: date.getHours(),
      minute: date.getMinutes(),
      second: date.getSeconds(),
      microsecond: date.getMilliseconds() * 1000
    }
  }
  const d = new Date(date.getTime() + zone * 60000)
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    microsecond: d.getUTCMilliseconds() * 1000
  }
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

const pad4 = (n: number): string => (n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`)

/** ".ffffff" cut to `fsp` digits (0-6); "" for fsp 0. */
export const formatFraction = (microsecond: number, fsp: number): string => {
  if (fsp <= 0) return ""
  const digits = String(microsecond).padStart(6, "0")
  return `.${digits.slice(0, fsp)}`
}

/**
 * Fractional digits to show: the column's `decimals` when it is a fractional-second precision
 * (0-6); otherwise (31, "not fixed", for expressions) 6 when there are microseconds, else 0.
 */
export const fractionDigits = (decimals: number, microsecond: number): number =>
  decimals <= 6 ? decimals : microsecond === 0 ? 0 : 6

/** "YYYY-MM-DD" */
export const formatDate = (year: number, month: number, day: number): string =>
  `${pad4(year)}-${pad2(month)}-${pad2(day)}`

/** "YYYY-MM-DD HH:MM:SS[.ffffff]" with `fsp` fractional digits. */
export const formatDateTime = (p: DateTimeParts, fsp: number): string =>
  `${formatDate(p.year, p.month, p.day)} ${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}${formatFraction(
    p.microsecond,
    fsp
  )}`

/** "[-]HH:MM:SS[.ffffff]" with at least two hour digits and `fsp` fractional digits. */
export const formatTime = (p: TimeParts, fsp: number): string =>
  `${p.negative ? "-" : ""}${pad2(p.hours)}:${pad2(p.minutes)}:${pad2(p.seconds)}${formatFraction(p.microsecond, fsp)}`

const DATETIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/

/** Parses "YYYY-MM-DD[ HH:MM:SS[.f…]]"; `undefined` if malformed or out of range. */
export const parseDateTimeText = (text: string): (DateTimeParts & { readonly hasTime: boolean }) | undefined => {
  const m = DATETIME_TEXT.exec(text)
  if (m === null) return undefined
  const parts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: m[4] === undefined ? 0 : Number(m[4]),
    minute: m[5] === undefined ? 0 : Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
    microsecond: m[7] === undefined ? 0 : Number(m[7].padEnd(6, "0")),
    hasTime: m[4] !== undefined
  }
  if (parts.month > 12 || parts.day > 31 || parts.hour > 23 || parts.minute > 59 || parts.second > 59) return undefined
  return parts
}

const TIME_TEXT = /^(-)?(\d{1,4}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/

/** Parses "[-]H…H:MM:SS[.f…]"; `undefined` if malformed or out of range. */
export const parseTimeText = (text: string): TimeParts | undefined => {
  const m = TIME_TEXT.exec(text)
  if (m === null) return undefined
  const parts = {
    negative: m[1] !== undefined,
    hours: Number(m[2]),
    minutes: Number(m[3]),
    seconds: Number(m[4]),
    microsecond: m[5] === undefined ? 0 : Number(m[5].padEnd(6, "0"))
  }
  if (parts.minutes > 59 || parts.seconds > 59) return undefined
  return parts
}
