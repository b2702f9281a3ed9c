/**
 * Reads a required setting from the environment, failing the cold start loudly rather than
 * running half-configured.
 */
export function requiredEnv(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`environment variable ${name} is not set`)
  return value
}
