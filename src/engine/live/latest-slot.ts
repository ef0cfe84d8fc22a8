// A one-place mailbox between frame arrival and inference: a new value replaces the waiting one
// (which is returned so the caller can count it as dropped). Memory stays bounded however fast
// frames arrive, and the model always works on the newest frame.
export class LatestSlot<T> {
  private value: T | undefined;
  private waiter: ((value: T | undefined) => void) | undefined;
  private closed = false;

  /** Offers a value; returns the value it displaced, if one was waiting. */
  put(value: T): T | undefined {
    if (this.closed) return value;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake(value);
      return undefined;
    }
    const displaced = this.value;
    this.value = value;
    return displaced;
  }

  /** The waiting value, or the next one put; undefined once closed. One taker at a time. */
  take(): Promise<T | undefined> {
    if (this.value !== undefined) {
      const v = this.value;
      this.value = undefined;
      return Promise.resolve(v);
    }
    if (this.closed) return Promise.resolve(undefined);
    if (this.waiter) throw new Error('LatestSlot.take: already waiting');
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Ends the slot: a pending take resolves undefined; returns the value that was waiting, if any. */
  close(): T | undefined {
    this.closed = true;
    const left = this.value;
    this.value = undefined;
    this.waiter?.(undefined);
    this.waiter = undefined;
    return left;
  }
}
