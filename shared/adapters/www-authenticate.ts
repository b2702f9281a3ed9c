/**
 * Parsing of `WWW-Authenticate` headers (RFC 9110 challenges), as registries send them on a 401:
 * `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
 */

/** One challenge of a `WWW-Authenticate` header, scheme and parameter names lower-cased. */
export interface AuthChallenge {
  scheme: string
  params: Record<string, string>
}

const TOKEN_CHARS = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y

/** Parses `WWW-Authenticate` values (several challenges per value allowed); never throws. */
export function parseChallenges(values: readonly string[]): AuthChallenge[] {
  const challenges: AuthChallenge[] = []
  for (const value of values) {
    let current: AuthChallenge | undefined
    let index = 0
    const skip = (pattern: RegExp) => {
      while (index < value.length && pattern.test(value.charAt(index))) index++
    }
    while (index < value.length) {
      skip(/[\s,]/)
      TOKEN_CHARS.lastIndex = index
      const token = TOKEN_CHARS.exec(value)?.[0]
      if (!token) break
      index += token.length
      skip(/\s/)
      if (value.charAt(index) !== '=') {
        current = { scheme: token.toLowerCase(), params: {} }
        challenges.push(current)
        continue
      }
      index++
      skip(/\s/)
      let paramValue = ''
      if (value.charAt(index) === '"') {
        index++
        while (index < value.length && value.charAt(index) !== '"') {
          if (value.charAt(index) === '\\') index++
          paramValue += value.charAt(index)
          index++
        }
        index++
      } else {
        while (index < value.length && !/[\s,]/.test(value.charAt(index))) paramValue += value.charAt(index++)
      }
      if (current) current.params[token.toLowerCase()] = paramValue
    }
  }
  return challenges
}
