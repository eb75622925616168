/**
 * Slot arithmetic of schedules: when the slots of a cron expression (read in its IANA time zone,
 * by croner, so daylight-saving changes fall where the zone's rules put them) or of an interval
 * fall, and each slot's jitter. Pure functions of the spec and a time: every engine computes the
 * same slots, which is what lets a slot's run id be derived from it.
 */
import { Cron } from 'croner';
import { msg, renderMessage, type IssueMessage, type ValidationMessageKey } from './validation/messages.js';

/** When a schedule's slots fall: a cron expression (5 or 6 fields) read in an IANA time zone (default UTC), or a fixed interval aligned to the epoch plus `offset`. */
export type ScheduleSpec = { cron: string; timezone?: string } | { every: string; offset?: string };

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;

/**
 * The milliseconds of a duration such as `15m`, `1h30m`, `10s` or `2d`; null when it is not one
 * or is shorter than one second (a schedule firing more often is a load, not a calendar).
 * With `allowZero`, `0s` is accepted (an interval's offset).
 */
export function parseEvery(text: unknown, options: { allowZero?: boolean } = {}): number | null {
  if (typeof text !== 'string' || text.length > 40 || !DURATION.test(text)) return null;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(digits) * UNITS[unit!]!;
  if (!Number.isSafeInteger(total)) return null;
  if (total === 0) return options.allowZero ? 0 : null;
  return total >= 1_000 || options.allowZero ? total : null;
}

/** Croner's names of the fields, as keyed parts of a message. */
const CRON_FIELDS: Readonly<Record<string, ValidationMessageKey>> = {
  second: 'cronSecond', minute: 'cronMinute', hour: 'cronHour', day: 'cronDay', month: 'cronMonth', dayOfWeek: 'cronDayOfWeek', year: 'cronYear',
};

/** Croner's most common complaint (a value out of its field's range) keyed; anything else stays croner's English. */
function croneProblem(text: string): IssueMessage {
  const match = /^Invalid value for (\w+): (.*)$/s.exec(text);
  if (!match || !Object.hasOwn(CRON_FIELDS, match[1]!)) return text;
  const keyed = msg('cronInvalidValue', { field: msg(CRON_FIELDS[match[1]!]!), value: match[2]! });
  return renderMessage(keyed) === text ? keyed : text;
}

/** What is wrong with a cron expression (5 or 6 fields: seconds first when 6), or null when croner accepts it. */
export function cronIssue(pattern: string): IssueMessage | null {
  const fields = pattern.trim().split(/\s+/).length;
  if (pattern.trim().startsWith('@')) return msg('cronNickname');
  if (fields !== 5 && fields !== 6) return msg('cronFieldCount', { count: fields });
  try {
    cronOf(pattern, undefined);
    return null;
  } catch (error) {
    return error instanceof Error ? croneProblem(error.message.replace(/^CronPattern: /, '')) : String(error);
  }
}

/** Cron objects by pattern and zone: parsing is the costly part, and schedules share few patterns. */
const crons = new Map<string, Cron>();

function cronOf(pattern: string, timezone: string | undefined): Cron {
  const key = `${timezone ?? ''}\u0000${pattern}`;
  let cron = crons.get(key);
  if (!cron) {
    cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
    if (crons.size >= 10_000) crons.clear();
    crons.set(key, cron);
  }
  return cron;
}

/** The first slot strictly after `after` (ms), or null when the spec has none. */
export function nextSlotAfter(spec: ScheduleSpec, after: number): number | null {
  if ('every' in spec) {
    const interval = parseEvery(spec.every)!;
    const offset = spec.offset === undefined ? 0 : parseEvery(spec.offset, { allowZero: true })!;
    return offset + (Math.floor((after - offset) / interval) + 1) * interval;
  }
  // croner works in whole seconds; the slot after a time inside a second is the one after that second.
  const second = Math.floor(after / 1000) * 1000;
  const key = `${spec.timezone ?? ''}\u0000${spec.cron}\u0000${second}`;
  const known = slotAfterSecond.get(key);
  if (known !== undefined) return known;
  const next = cronOf(spec.cron, spec.timezone).nextRun(new Date(second));
  const slot = next ? next.getTime() : null;
  if (slotAfterSecond.size >= 10_000) slotAfterSecond.clear();
  slotAfterSecond.set(key, slot);
  return slot;
}

/**
 * The slot after a second, by pattern, zone and second: a pure function, and the schedules due at
 * one time mostly share both (10,000 schedules on `0 * * * *` ask croner the same question 10,000
 * times a look, at ~7 µs each otherwise).
 */
const slotAfterSecond = new Map<string, number | null>();

/** The slots in (`after`, `until`], oldest first, at most `limit`; `more` says whether slots beyond the limit were left out. */
export function slotsBetween(spec: ScheduleSpec, after: number, until: number, limit: number): { slots: number[]; more: boolean } {
  const slots: number[] = [];
  let at = after;
  for (;;) {
    const next = nextSlotAfter(spec, at);
    if (next === null || next > until) return { slots, more: false };
    if (slots.length >= limit) return { slots, more: true };
    slots.push(next);
    at = next;
  }
}

/** How many slots fall in (`after`, `until`], counting at most `max` (an interval's count is arithmetic). */
export function countSlots(spec: ScheduleSpec, after: number, until: number, max: number): number {
  if (until <= after) return 0;
  if ('every' in spec) {
    const first = nextSlotAfter(spec, after)!;
    return first > until ? 0 : Math.min(max, Math.floor((until - first) / parseEvery(spec.every)!) + 1);
  }
  return slotsBetween(spec, after, until, max).slots.length;
}

/** The next `count` slots after `after` within `endAt`: what a schedule shows as its coming fire times. */
export function nextSlots(spec: ScheduleSpec, after: number, count: number, endAt: number | null): number[] {
  const out: number[] = [];
  let at = after;
  while (out.length < count) {
    const next = nextSlotAfter(spec, at);
    if (next === null || (endAt !== null && next > endAt)) break;
    out.push(next);
    at = next;
  }
  return out;
}

/**
 * A slot's jitter, in [0, `jitterMs`): the same for a schedule and slot in every engine (FNV-1a of
 * both), so engines agree on when a slot is due. Not a secret: it spreads load, it guards nothing.
 */
export function jitterOf(scheduleId: string, slot: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 0x811c9dc5;
  for (const ch of `${scheduleId}\u0000${slot}`) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % jitterMs;
}
