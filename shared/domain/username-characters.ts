/**
 * What a username may hold, whatever the registry: what HTTP Basic auth (RFC 7617) can carry and a
 * person can read. The formats each provider issues are in `registry-username.ts`.
 */

/** The longest username accepted (the extension; the contract's pattern stops at 39). */
export const USERNAME_MAX_LENGTH = 255

/** Printable ASCII but `:`: what Basic auth can carry as a username. */
export const PRINTABLE_WITHOUT_COLON = /^[\x21-\x39\x3b-\x7e]+$/

/**
 * Why a username cannot be used with any registry, or undefined. Never quotes the value.
 * Checked by the field's schema, whatever the provider.
 */
export function usernameRefusal(username: string): string | undefined {
  if (username.length === 0) return 'must not be empty'
  if (/\s/u.test(username)) return 'must not contain whitespace'
  if (/\p{Cc}/u.test(username)) return 'must not contain control characters'
  if (username.includes(':')) {
    return 'must not contain ":" (Basic auth puts it between the username and the password)'
  }
  if (!PRINTABLE_WITHOUT_COLON.test(username)) return 'must be printable ASCII'
  if (username.length > USERNAME_MAX_LENGTH) return `must be at most ${USERNAME_MAX_LENGTH} characters long`
  return undefined
}
