/** How often the runs page reads its listing again (the bench reads these too). */

/**
 * Between two reads of the newest page (where new runs and changes show), while the tab is
 * visible. Cheap: the server tags each answer and the browser asks again with `If-None-Match`, so
 * a poll while nothing changed in the store is a 304 without a listing read (listing-etags.ts).
 */
export const RUNS_POLL_MS = 200;
/** Between two reads of an older page. */
export const OLDER_PAGE_POLL_MS = 2_000;
