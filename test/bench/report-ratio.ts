/** The part of a benchmark result the report reads. */
interface MeasuredTask {
  name: string
  latency: { mean: number; p50?: number; p99?: number }
}

/**
 * Prints how many times slower the subject is than its baseline, both measured in the same run
 * on the same machine: a ratio, not an absolute time, so a busy shared machine skews it less.
 */
export function reportRatio(title: string, subject: MeasuredTask, baseline: MeasuredTask): void {
  const ratio = subject.latency.mean / baseline.latency.mean
  process.stdout.write(
    `\n${title}: ${ratio.toFixed(2)}x the baseline\n` +
      `  baseline  ${baseline.name}\n` +
      `  subject   ${subject.name}\n`,
  )
}
