/** The most credentials a stage may let one company hold: the contract's maximum `total`. */
export const MAX_CREDENTIAL_LIMIT = 10_000

/** Whether `value` is a usable per-company credential limit: a whole number from 1 to the maximum. */
export function isCredentialLimit(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_CREDENTIAL_LIMIT
}
