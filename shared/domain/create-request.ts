import * as v from 'valibot'
import type { Actor } from './activity.ts'
import type { CreateDockerRegistryInput, DockerRegistry } from './docker-registry.ts'
import {
  type CreateDockerRegistryPorts,
  createDockerRegistry,
  toDockerRegistry,
} from './docker-registry-use-cases.ts'
import { IdempotencyKeyReusedError, InvalidInputError } from './errors.ts'
import { normaliseHost } from './image-reference.ts'
import type { createVerifiedDockerRegistry } from './registry-check.ts'
import type { CreateDockerRegistryQuery } from './verify-credential.ts'

/** Headers the create operation reads: an optional `Idempotency-Key` (visible ASCII, 1..255). */
export const CreateDockerRegistryHeaders = v.looseObject({
  'idempotency-key': v.optional(
    v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters')),
  ),
})
/** Validated create headers. */
export type CreateDockerRegistryHeaders = v.InferOutput<typeof CreateDockerRegistryHeaders>

/**
 * The create of `?verify=true`: registry-check.ts's `createVerifiedDockerRegistry` with its ports
 * bound. A port of its own, so the create function loads the check and its exchanges on the first
 * such request rather than at every cold start.
 */
export type VerifiedCreate = (
  companyId: string,
  input: CreateDockerRegistryInput,
  requestedHost: string | undefined,
  options: Parameters<typeof createVerifiedDockerRegistry>[4],
) => Promise<DockerRegistry>

/** Ports of {@link handleCreateRequest}. */
export interface CreateRequestPorts extends CreateDockerRegistryPorts {
  createVerified: VerifiedCreate
}

/**
 * `POST /v3/docker-registries` as a whole: verification first when asked (`?verify=true`), and
 * with an `Idempotency-Key` a retry gets the first result instead of a second credential. The
 * fingerprint a retry must repeat leaves the secret out: a hash of it would be a guessable trace
 * of the secret in the table.
 *
 * A key already answered is replayed before anything else runs (no data key, no verification).
 * Otherwise the key is claimed in the same transaction that stores the credential, so either both
 * exist or neither: a run that fails leaves nothing, and its retry runs afresh. There is no
 * "in progress" state: concurrent runs with one key each try, exactly one transaction stores,
 * and the others answer its credential (or 422 when their request differs).
 */
export async function handleCreateRequest(
  ports: CreateRequestPorts,
  companyId: string,
  input: CreateDockerRegistryInput,
  query: CreateDockerRegistryQuery,
  request: { key: string | undefined; remainingMs?: () => number },
  actor?: Actor,
): Promise<DockerRegistry> {
  if (query.verify !== 'true') refuseVerificationOptions(query)
  const idempotency =
    request.key === undefined
      ? undefined
      : {
          key: request.key,
          fingerprint: {
            name: input.name,
            registry: input.registry,
            username: input.username,
            verify: query.verify,
            registry_host: query.registry_host === undefined ? null : normaliseHost(query.registry_host),
            image: query.image ?? null,
            platform: query.platform ?? null,
          },
        }
  if (idempotency) {
    const answered = await ports.store.findIdempotent(companyId, idempotency)
    if (answered === 'mismatch') throw new IdempotencyKeyReusedError()
    if (answered) return toDockerRegistry(answered)
  }
  const options = {
    ...(idempotency ? { idempotency } : {}),
    ...(request.remainingMs ? { remainingMs: request.remainingMs } : {}),
    ...(actor ? { actor } : {}),
  }
  return query.verify === 'true'
    ? ports.createVerified(companyId, input, query.registry_host, {
        ...options,
        image: query.image,
        platform: query.platform,
      })
    : createDockerRegistry(ports, companyId, input, { ...options, registryHost: query.registry_host })
}

// `image` and `platform` say what `?verify=true` checks; without it they would be ignored silently.
function refuseVerificationOptions(query: CreateDockerRegistryQuery): void {
  const unused = (['image', 'platform'] as const).filter((name) => query[name] !== undefined)
  if (unused.length > 0) {
    throw new InvalidInputError(unused.map((path) => ({ path, message: 'is only used with verify=true' })))
  }
}
