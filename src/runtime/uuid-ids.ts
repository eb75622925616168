/**
 * Ids of runs and items: UUIDv7, so run ids sort by creation time (and index well).
 */
import { v7 as uuidv7 } from 'uuid';
import type { IdSource } from '../core/clock.js';

/** UUIDv7 ids for runs, items and messages. */
export const uuidIds: IdSource = {
  newRunId: () => uuidv7(),
  newId: () => uuidv7(),
};
