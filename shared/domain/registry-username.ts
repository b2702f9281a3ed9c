import { REGISTRY_PROVIDERS, type RegistryProvider, USERNAME_PATTERN } from './docker-registry.ts'
import { PRINTABLE_WITHOUT_COLON } from './username-characters.ts'

/**
 * The usernames registries really issue. The Sevalla v3 pattern (1..39 alphanumerics with `._-`
 * inside) refuses GitLab deploy tokens, Google's `_json_key`, Quay and Harbor robots, NGC's
 * `$oauthtoken` and long access key ids; this extension accepts each provider's real formats,
 * and always everything the contract's pattern accepts.
 */

/** One username format a provider issues. */
export interface UsernameFormat {
  /** Who issues it and what it is, as a refusal names it. */
  name: string
  /** The providers whose credentials may carry it. */
  providers: readonly RegistryProvider[]
  pattern: RegExp
  example: string
}

// built on first use: docker-registry.ts imports this module (its body check calls
// providerUsernameRefusal), so the values imported here are not ready while it is first evaluated.
let formats: readonly UsernameFormat[] | undefined

/** The username formats accepted, by provider; the first is the contract's own, for every provider. */
export function usernameFormatTable(): readonly UsernameFormat[] {
  formats ??= [
    {
      name: 'the Sevalla v3 pattern (1 to 39 letters, digits, ".", "_" or "-", starting and ending with a letter or digit)',
      providers: REGISTRY_PROVIDERS,
      pattern: USERNAME_PATTERN,
      example: 'my-docker-user',
    },
    {
      name: 'a GitLab deploy token username',
      providers: ['gitlab'],
      pattern: /^gitlab\+deploy-token-[0-9]{1,19}$/,
      example: 'gitlab+deploy-token-123',
    },
    {
      name: 'a GitLab username or token bot user (letters, digits, "_", "-", ".")',
      providers: ['gitlab'],
      pattern: /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$/,
      example: 'project_123_bot_4f2a9c0e1d3b5a7f9e8d6c4b2a0f1e3d',
    },
    {
      name: 'a Google service-account key username (_json_key, _json_key_base64)',
      providers: ['gcr'],
      pattern: /^_json_key(?:_base64)?$/,
      example: '_json_key',
    },
    {
      name: 'an AWS access key id (16 to 128 upper-case letters and digits)',
      providers: ['ecr'],
      pattern: /^[A-Z0-9]{16,128}$/,
      example: 'AKIAIOSFODNN7EXAMPLE',
    },
    {
      name: 'a DigitalOcean API token',
      providers: ['digitalOcean'],
      pattern: /^dop_v1_[0-9a-f]{64}$/,
      example: 'dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    },
    {
      name: 'an email address',
      providers: ['digitalOcean'],
      pattern: /^[^@]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/,
      example: 'ops@example.com',
    },
    {
      // Quay robots (org+robot), Harbor robots (robot$project+ci), NGC ($oauthtoken), Azure
      // service-principal ids, Artifactory and Nexus users: a registry of its own may use anything
      // Basic auth can carry.
      name: 'printable ASCII without ":"',
      providers: ['custom'],
      pattern: PRINTABLE_WITHOUT_COLON,
      example: 'robot$project+ci',
    },
  ]
  return formats
}

/** The formats a provider's credentials may carry. */
export function usernameFormats(provider: RegistryProvider): UsernameFormat[] {
  return usernameFormatTable().filter((format) => format.providers.includes(provider))
}

/**
 * Why a (generally usable) username is not one the provider issues, or undefined. The message
 * lists what the provider's usernames look like; it never quotes the value.
 */
export function providerUsernameRefusal(provider: RegistryProvider, username: string): string | undefined {
  const formats = usernameFormats(provider)
  if (formats.some((format) => format.pattern.test(username))) return undefined
  return `is not a ${provider} username: expected ${formats.map((format) => format.name).join(', or ')}`
}
