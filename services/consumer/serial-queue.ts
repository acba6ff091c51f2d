// Runs async jobs one at a time in arrival order: a stage's batches and its timer-driven work
// (idle marks) share transactional producers, which allow one transaction at a time.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
