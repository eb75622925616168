/**
 * Plain counters of one router, served at `/metrics` in the Prometheus text format. Counting is
 * a few integer increments per request; nothing is kept per route or per principal.
 */

/** The counters of one router. */
export class ServerMetrics {
  readonly #byStatusClass = new Map<string, number>();
  runsStarted = 0;
  sseOpen = 0;
  sseOpened = 0;
  sseEventsSent = 0;

  /** Counts a request by its status class (`2xx`, `4xx`, …). */
  countResponse(status: number): void {
    const key = `${Math.floor(status / 100)}xx`;
    this.#byStatusClass.set(key, (this.#byStatusClass.get(key) ?? 0) + 1);
  }

  /** The counters in the Prometheus text exposition format. */
  render(): string {
    const lines = ['# TYPE flowrun_http_responses_total counter'];
    for (const [key, value] of [...this.#byStatusClass].sort()) lines.push(`flowrun_http_responses_total{status="${key}"} ${value}`);
    lines.push('# TYPE flowrun_runs_started_total counter', `flowrun_runs_started_total ${this.runsStarted}`);
    lines.push('# TYPE flowrun_sse_streams_open gauge', `flowrun_sse_streams_open ${this.sseOpen}`);
    lines.push('# TYPE flowrun_sse_streams_opened_total counter', `flowrun_sse_streams_opened_total ${this.sseOpened}`);
    lines.push('# TYPE flowrun_sse_events_sent_total counter', `flowrun_sse_events_sent_total ${this.sseEventsSent}`);
    return `${lines.join('\n')}\n`;
  }
}
