/** The syntax tree of a machine, as the parser builds it and the compiler reads it. */
import type { JsonValue, VarType } from '../core/model.js';
import type { Position } from './lexer.js';

/** A `key: expr` argument (input of a call, a launch or an ask). */
export interface Arg {
  key: string;
  source: string;
  at: Position;
}

/** A statement of a flow body. */
export type Statement =
  | { kind: 'compute'; at: Position; name: string; expression: string }
  | { kind: 'set'; at: Position; target: string; expression: string }
  | { kind: 'fail'; at: Position; code: string; description?: string }
  | { kind: 'run' | 'goto'; at: Position; flow: string; flowAt: Position }
  | { kind: 'decide'; at: Position; name: string; branches: Branch[]; otherwise?: Statement[] }
  | { kind: 'launch' | 'call'; at: Position; name: string; machine: string; args: Arg[] }
  | { kind: 'ask'; at: Position; name: string; model?: string; machine?: string; task?: string; args: Arg[]; returns: Field[]; assuming: Record<string, JsonValue> }
  /** `wait NAME, for: MS` / `until: EXPR` / `on: "EVENT" key: expr…` (the args are the event's `match`). */
  | { kind: 'wait'; at: Position; name: string; durationMs?: number; until?: string; event?: string; args: Arg[] }
  /** `emit NAME, on: "EVENT" key: expr…` (the args build the payload). */
  | { kind: 'emit'; at: Position; name: string; event: string; args: Arg[] };

/** One `when` of a decide. */
export interface Branch {
  at: Position;
  condition: string;
  body: Statement[];
}

/** A typed name: a param of `accepts` or a field of `returns`. */
export interface Field {
  at: Position;
  name: string;
  type: VarType;
  required?: boolean;
  default?: JsonValue;
}

/** A machine: its params, its main body, its flows, its subscriptions. */
export interface MachineNode {
  at: Position;
  name: string;
  params: Field[];
  main: Statement[];
  mainAt: Position;
  flows: { at: Position; name: string; body: Statement[] }[];
  subscriptions: { at: Position; on: string; run: string; runAt: Position; runAs?: string }[];
  /** `schedule NAME "CRON" [in "ZONE"] [as "SVC"]` or `schedule NAME every "15m" [as "SVC"]`: the machine's action on a calendar. */
  schedules: { at: Position; name: string; cron?: string; timezone?: string; every?: string; runAs?: string }[];
}
