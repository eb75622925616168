/** Waiting on work that cannot itself be stopped, but must stop being waited on when a run is canceled. */

/** Resolves with the promise, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Waits for `value` (any thenable), or for `signal` to abort, whichever comes first, and resolves
 * with what `settled` makes of it: called once, with the value or the error (the signal's reason
 * when it aborted first); rejects only with what `settled` throws. Two promises: the one returned
 * and the `then` on `value` (untilAborted and a `then` after it make three).
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
  });
}
