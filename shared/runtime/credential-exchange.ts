import type { EcrRoleExchanger } from '../adapters/ecr-role-exchanger.ts'
import type { EcrTokenExchanger } from '../adapters/ecr-token-exchanger.ts'
import type { GoogleTokenExchanger } from '../adapters/google-token-exchanger.ts'
import { createLoginCache, type LoginCache } from '../domain/login-cache.ts'
import type { CredentialExchanger } from '../domain/short-lived-credentials.ts'

/**
 * The container's one credential exchanger and one login cache. The adapters are loaded on first
 * use (dynamic imports), so a function that resolves only plain passwords never loads the STS or
 * ECR clients or the JWT signing code on its cold start.
 */

/** The variable that points the Google exchange at a local token endpoint (tests, local stack). */
export const GOOGLE_TOKEN_ENDPOINT_OVERRIDE = 'GOOGLE_TOKEN_ENDPOINT_OVERRIDE'

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * Google's token endpoint, or the override, which may only name an http endpoint on loopback:
 * no setting can aim a service-account key's exchange at another host (the stacks never set it).
 */
export function googleTokenEndpoint(override: string | undefined, fixed: string): string {
  if (override === undefined || override === '') return fixed
  let url: URL
  try {
    url = new URL(override)
  } catch {
    throw new Error(`${GOOGLE_TOKEN_ENDPOINT_OVERRIDE} is not a URL`)
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127(?:\.\d{1,3}){3}$/.test(url.hostname)
  if (url.protocol !== 'http:' || !loopback) {
    throw new Error(`${GOOGLE_TOKEN_ENDPOINT_OVERRIDE} may only name an http endpoint on loopback`)
  }
  return url.toString()
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined
      throw error
    })
    return loaded
  }
}

/** The exchanger of ECR key pairs, ECR roles and Google service-account keys. */
export function createCredentialExchanger(): CredentialExchanger {
  const ecrTokens = once<EcrTokenExchanger>(async () =>
    (await import('../adapters/ecr-token-exchanger.ts')).createEcrTokenExchanger(),
  )
  const ecrRoles = once<EcrRoleExchanger>(async () => {
    const [{ createEcrRoleExchanger }, { createStsRoleAssumer }] = await Promise.all([
      import('../adapters/ecr-role-exchanger.ts'),
      import('../adapters/sts-role-assumer.ts'),
    ])
    return createEcrRoleExchanger({ assumer: createStsRoleAssumer(), ecr: await ecrTokens() })
  })
  const google = once<GoogleTokenExchanger>(async () => {
    const { createGoogleTokenExchanger, GOOGLE_TOKEN_ENDPOINT } = await import(
      '../adapters/google-token-exchanger.ts'
    )
    return createGoogleTokenExchanger({
      tokenEndpoint: googleTokenEndpoint(process.env[GOOGLE_TOKEN_ENDPOINT_OVERRIDE], GOOGLE_TOKEN_ENDPOINT),
    })
  })
  return {
    async exchange(request) {
      switch (request.kind) {
        case 'ecrKeyPair':
          return (await ecrTokens()).exchange(request)
        case 'ecrRole':
          return (await ecrRoles()).exchange(request)
        case 'googleKey':
          return (await google()).exchange(request.key)
      }
    },
  }
}

/** This container's exchanger. */
export const credentialExchanger: CredentialExchanger = createCredentialExchanger()

/** This container's exchanged logins, in memory only. */
export const loginCache: LoginCache = createLoginCache(() => new Date())
