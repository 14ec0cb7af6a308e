// Builders for binlog events in tests: a header with the event size filled in by encoding once.
import type { BinlogEvent, BinlogFormat, EventHeader } from "../../src/binlog/BinlogEvent.ts"
import { encodeEvent } from "../../src/binlog/EventCodec.ts"
import { ok } from "../support/bytes.ts"

export const header = (type: number, over: Partial<EventHeader> = {}): EventHeader => ({
  timestamp: 1767225600,
  type,
  serverId: 7,
  eventSize: 0,
  logPos: 1234,
  flags: 0,
  ...over
})

/** `event` with `header.eventSize` set to the size `encodeEvent` gives it under `format`. */
export const sized = <E extends BinlogEvent>(event: E, format: BinlogFormat): E => {
  const eventSize = ok(encodeEvent(event, format)).length
  return { ...event, header: { ...event.header, eventSize } }
}

/** The events of a binlog file (after its 4-byte magic) as `[start, end)` ranges. */
export const walk = (file: Uint8Array): Array<{ start: number; end: number }> => {
  const ranges: Array<{ start: number; end: number }> = []
  for (let pos = 4; pos < file.length; ) {
    const size = file[pos + 9] | (file[pos + 10] << 8) | (file[pos + 11] << 16)
    ranges.push({ start: pos, end: pos + size })
    pos += size
  }
  return ranges
}

/** The binlog file magic: 0xfe 'b' 'i' 'n'. */
export const BINLOG_MAGIC = new Uint8Array([0xfe, 0x62, 0x69, 0x6e])
