/** Waiting on work that cannot itself be stopped, but must stop being waited on when a run is canceled. */

/** Resolves with the promise, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return settleUntilAborted(promise, signal, unwrap);
}

function unwrap<T>(outcome: { value: T } | { error: unknown }): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/**
 * Waits for `value` (any thenable), or for `signal` to abort, whichever comes first, and resolves
 * with what `settled` makes of it: called once, with the value or the error (the signal's reason
 * when it aborted first, or had already); rejects only with what `settled` throws. Two promises:
 * the one returned and the `then` on `value`.
 */
export function settleUntilAborted<T, R>(value: PromiseLike<T>, signal: AbortSignal, settled: (outcome: { value: T } | { error: unknown }) => R): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let done = false;
    const finish = (outcome: { value: T } | { error: unknown }): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      try {
        resolve(settled(outcome));
      } catch (error) {
        reject(error);
      }
    };
    const onAbort = (): void => finish({ error: signal.reason });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      value.then(
        (result) => finish({ value: result }),
        (error: unknown) => finish({ error }),
      );
    } catch (error) {
      finish({ error }); // a thenable whose then throws
    }
    // Aborted already: settled at once, and a later rejection of `value` is still handled above.
    if (signal.aborted) onAbort();
  });
}
