import * as v from 'valibot'
import type { RegistryProvider } from './docker-registry.ts'
import { InvalidInputError } from './errors.ts'
import {
  defaultRegistryHost,
  isHostAllowedForProvider,
  normaliseHost,
  parseRegistryHost,
} from './image-reference.ts'

/**
 * A `registry_host` query parameter: `host[:port]`. The extension that pins a credential to the
 * registry its secret belongs to (and says where `?verify=true` checks it).
 */
export const RegistryHostParameter = v.pipe(
  v.string('must be a string'),
  v.maxLength(261, 'must be a host name with an optional port'),
  v.check((host) => parseRegistryHost(host) !== undefined, 'must be a host name with an optional port'),
)

/**
 * Validates a host to pin a credential to: it must belong to the credential's provider (threat:
 * a GitHub token pinned to, and later sent to, a host the customer did not choose for it).
 */
export function pinnableHost(provider: RegistryProvider, requested: string): string {
  if (!isHostAllowedForProvider(provider, requested)) {
    throw new InvalidInputError([
      { path: 'registry_host', message: `is not a registry host of a ${provider} credential` },
    ])
  }
  return normaliseHost(requested)
}

/**
 * The one host a stored credential's secret may be presented to by this service: the host pinned
 * when the credential was created (pins never change), else the provider's own. Never a host named at the time of use:
 * otherwise anyone with a write key could have the service hand a stored secret to a server of
 * theirs. `custom` and `ecr` credentials without a pinned host have none.
 */
export function credentialHost(provider: RegistryProvider, pinned: string | undefined): string | undefined {
  return pinned ?? defaultRegistryHost(provider)
}
