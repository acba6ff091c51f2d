// Runs async jobs one at a time in arrival order: the jobs on one partition (its batches and the
// timer-driven idle marks) share a transactional producer, which allows one transaction at a time.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
