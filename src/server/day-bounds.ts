/**
 * Seed 003's listing times (`startTime: "2023-01-01"`, `endTime: "2023-12-31"`) as store bounds:
 * a day covers from its first to its last instant, in UTC unless an offset follows it
 * (`2023-12-31+02:00`); a time (ISO 8601, UTC unless it carries an offset, or ms since the
 * epoch) is that instant. `startTime` keeps runs started on or after it, `endTime` runs ended on
 * or before it, so both bounds are inclusive.
 */

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:?\d{2})?$/;
const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/** The bound of `text` as a store filter takes it: `from` inclusive for `startTime`, `to` exclusive for `endTime`; null when it is no day or time. */
export function dayOrTimeBound(text: string, edge: 'startTime' | 'endTime'): number | null {
  const day = DAY.exec(text);
  if (day) {
    const [, y, m, d, offset] = day;
    const midnight = Date.UTC(Number(y), Number(m) - 1, Number(d));
    const date = new Date(midnight);
    // Date.UTC rolls 2023-02-30 over to March: such a day does not exist.
    if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) return null;
    const start = midnight - offsetMs(offset);
    return edge === 'startTime' ? start : start + DAY_MS;
  }
  const instant = /^\d+$/.test(text) ? Number(text) : Date.parse(OFFSET.test(text) ? text : `${text}Z`);
  if (!Number.isFinite(instant)) return null;
  return edge === 'startTime' ? instant : instant + 1;
}

function offsetMs(offset: string | undefined): number {
  if (offset === undefined || offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}
