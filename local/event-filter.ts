/**
 * Lambda's event filtering (EventBridge's pattern language) for the rules an event source mapping
 * of this project uses: nested objects, and lists of exact values or `prefix`, `suffix` and
 * `exists` rules, any of which may match. Any other rule is refused when the pattern is checked,
 * never silently treated as a match.
 */
export type EventPattern = { readonly [key: string]: EventPattern | readonly unknown[] }

const SUPPORTED_RULES = new Set(['prefix', 'suffix', 'exists'])

function ruleMatches(rule: unknown, value: unknown, present: boolean): boolean {
  if (typeof rule !== 'object' || rule === null) {
    const values = Array.isArray(value) ? value : [value]
    return present && values.some((candidate) => candidate === rule)
  }
  const [name, operand] = Object.entries(rule)[0] ?? []
  const strings = (Array.isArray(value) ? value : [value]).filter(
    (candidate) => typeof candidate === 'string',
  )
  switch (name) {
    case 'prefix':
      return strings.some((candidate) => candidate.startsWith(String(operand)))
    case 'suffix':
      return strings.some((candidate) => candidate.endsWith(String(operand)))
    case 'exists':
      return operand === present
    default:
      throw new Error(`event pattern rule ${String(name)} is not supported locally`)
  }
}

/** Throws when the pattern uses a rule {@link matchesEventPattern} does not implement. */
export function assertSupportedPattern(pattern: unknown): void {
  if (Array.isArray(pattern)) {
    for (const rule of pattern) {
      if (typeof rule === 'object' && rule !== null) {
        const names = Object.keys(rule)
        if (names.length !== 1 || !SUPPORTED_RULES.has(names[0] as string)) {
          throw new Error(`event pattern rule ${JSON.stringify(rule)} is not supported locally`)
        }
      }
    }
    return
  }
  if (typeof pattern !== 'object' || pattern === null) throw new Error('an event pattern must be an object')
  for (const inner of Object.values(pattern)) assertSupportedPattern(inner)
}

/** Whether an event (a stream record as the function receives it) matches the pattern. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, inner]) => {
    const container = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {}
    const present = Object.hasOwn(container, key) && container[key] !== undefined
    const value = container[key]
    if (Array.isArray(inner)) return inner.some((rule) => ruleMatches(rule, value, present))
    return present && matchesEventPattern(inner as EventPattern, value)
  })
}
