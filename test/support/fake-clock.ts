/**
 * A clock whose time moves only when every pending task is waiting on it: `sleep` parks the
 * caller until the clock reaches its wake-up time, and {@link FakeClock.run} advances to the
 * earliest one whenever nothing else can make progress. Time-dependent code is then tested
 * exactly and instantly, without a wall-clock bound.
 */
export class FakeClock {
  private current: number
  private readonly timers: { at: number; wake: () => void }[] = []

  constructor(start = Date.UTC(2026, 11, 1, 3, 0, 0)) {
    this.current = start
  }

  /** The current fake time. */
  readonly now = (): Date => new Date(this.current)

  /** Ms since the epoch. */
  get time(): number {
    return this.current
  }

  /** Resolves once the fake time has advanced by `ms`. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.timers.push({ at: this.current + Math.max(0, ms), wake: resolve })
    })

  /** Runs `task` to its end, advancing the fake time whenever every path of it is asleep. */
  async run<T>(task: Promise<T>): Promise<T> {
    let settled = false
    const result = task.finally(() => {
      settled = true
    })
    for (;;) {
      // let every runnable continuation run before deciding that all of them wait on the clock
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve))
      if (settled) return result
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers.shift()
      if (!next) return result
      this.current = Math.max(this.current, next.at)
      next.wake()
    }
  }
}
