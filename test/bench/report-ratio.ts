/** The part of a benchmark result the report reads. */
interface MeasuredTask {
  name: string
  latency: { mean: number; p50?: number; p99?: number }
}

/**
 * Prints how many times slower the subject is than its baseline, both measured in the same run
 * on the same machine: a ratio, not an absolute time, so a busy shared machine skews it less.
 * With `within`, also whether the ratio stays inside that budget.
 */
export function reportRatio(
  title: string,
  subject: MeasuredTask,
  baseline: MeasuredTask,
  budget: { within?: number } = {},
): void {
  // medians when both have them: one stall of a busy shared machine moves a mean, not a median
  const statistic = subject.latency.p50 !== undefined && baseline.latency.p50 !== undefined ? 'p50' : 'mean'
  const ratio = (subject.latency[statistic] ?? 0) / (baseline.latency[statistic] ?? 1)
  const verdict =
    budget.within === undefined
      ? ''
      : ratio <= budget.within
        ? ` (within ${budget.within}x: yes)`
        : ` (within ${budget.within}x: NO)`
  process.stdout.write(
    `\n${title}: ${ratio.toFixed(2)}x the baseline (${statistic})${verdict}\n` +
      `  baseline  ${baseline.name}\n` +
      `  subject   ${subject.name}\n`,
  )
}
