import type { Actor } from './activity.ts'
import type {
  CreateDockerRegistryInput,
  DockerRegistry,
  DockerRegistryPage,
  DockerRegistrySummary,
  ListDockerRegistriesQuery,
  UpdateDockerRegistryInput,
} from './docker-registry.ts'
import { ConcurrentUpdateError, CredentialNotFoundError, InvalidInputError } from './errors.ts'
import type {
  Clock,
  CredentialChanges,
  CredentialStore,
  CredentialSummary,
  IdempotencyClaim,
  IdGenerator,
  SealedSecret,
  SecretSealer,
  WriteOptions,
} from './ports.ts'
import { pinnableHost } from './registry-host.ts'
import { providerUsernameRefusal } from './registry-username.ts'
import { changesSecretKind, secretIssues } from './short-lived-credentials.ts'

/** A credential as the list shows it: no company, no envelope. */
export function toDockerRegistrySummary(credential: CredentialSummary): DockerRegistrySummary {
  return {
    id: credential.id,
    name: credential.name,
    registry: credential.registry,
    username: credential.username,
    created_at: credential.createdAt,
    updated_at: credential.updatedAt,
  }
}

/** A credential as create, get and update show it; the envelope never leaves the store's layer. */
export function toDockerRegistry(credential: CredentialSummary): DockerRegistry {
  const { id, ...summary } = toDockerRegistrySummary(credential)
  return { id, company_id: credential.companyId, ...summary }
}

/** Ports of the create use case. */
export interface CreateDockerRegistryPorts {
  store: CredentialStore
  sealer: SecretSealer
  clock: Clock
  newId: IdGenerator
  /** Most credentials one company may hold (the stage setting `credentialLimit`). */
  credentialLimit: number
}

/** Options of create: the registry host to pin the credential to, the request's key, and who creates it. */
export interface SecretOptions extends WriteOptions {
  /** `registry_host` (extension): the one host this service will ever present the secret to. */
  registryHost?: string | undefined
  /** The request's `Idempotency-Key`, claimed in the same write as the credential. */
  idempotency?: IdempotencyClaim
  /** The API key creating it; its Created event names it. */
  actor?: Actor | undefined
}

/**
 * Stores a new credential for a company: seals the secret under a fresh data key bound to the
 * company and credential, then writes the item with the company's count (and the request's
 * Idempotency-Key) in one transaction. Nothing is written if sealing fails; nothing beyond the
 * company's limit (`CredentialLimitReachedError`). With a key that a concurrent run of the same
 * request claimed first, answers that run's credential.
 */
export async function createDockerRegistry(
  ports: CreateDockerRegistryPorts,
  companyId: string,
  input: CreateDockerRegistryInput,
  options: SecretOptions = {},
): Promise<DockerRegistry> {
  const registryHost = options.registryHost && pinnableHost(input.registry, options.registryHost)
  const id = ports.newId()
  const now = ports.clock().toISOString()
  const secret = await ports.sealer.seal(input.secret, { companyId, credentialId: id })
  const credential = {
    companyId,
    id,
    name: input.name,
    registry: input.registry,
    username: input.username,
    createdAt: now,
    updatedAt: now,
    ...(registryHost ? { registryHost } : {}),
  }
  const stored = await ports.store.create(
    { ...credential, secret, ...(options.actor ? { createdBy: options.actor } : {}) },
    {
      limit: ports.credentialLimit,
      ...(options.idempotency ? { idempotency: options.idempotency } : {}),
      ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    },
  )
  return toDockerRegistry(stored)
}

/** Ports of the read-only use cases. */
export interface ReadDockerRegistryPorts {
  store: CredentialStore
}

/** One page of a company's credentials, newest first, without company ids. */
export async function listDockerRegistries(
  ports: ReadDockerRegistryPorts,
  companyId: string,
  query: ListDockerRegistriesQuery,
): Promise<DockerRegistryPage> {
  const page = await ports.store.list(companyId, query)
  return {
    data: page.items.map(toDockerRegistrySummary),
    total: page.total,
    offset: query.offset,
    limit: query.limit,
  }
}

/** One credential of the company, or CredentialNotFoundError (also for another company's id). */
export async function getDockerRegistry(
  ports: ReadDockerRegistryPorts,
  companyId: string,
  id: string,
): Promise<DockerRegistry> {
  const credential = await ports.store.find(companyId, id)
  if (!credential) throw new CredentialNotFoundError()
  return toDockerRegistry(credential)
}

/** Ports of the update use case. */
export interface UpdateDockerRegistryPorts {
  store: CredentialStore
  sealer: SecretSealer
  clock: Clock
}

/** How often an update re-reads and retries when another write got in between. */
const UPDATE_ATTEMPTS = 3

// the fields of `input` that differ from `current`. A secret belongs to its registry: moving a
// credential to another registry needs a new secret in the same request, and a credential pinned
// to a registry host never moves (threat: a write key turning someone's GitHub token into a
// `custom` credential aimed at a server of its own). Pins are set at creation only, so no update
// can aim a later rotation of the secret somewhere else either.
function plainChanges(current: CredentialSummary, input: UpdateDockerRegistryInput): CredentialChanges {
  const changes: CredentialChanges = {}
  if (input.name !== undefined && input.name !== current.name) changes.name = input.name
  if (input.registry !== undefined && input.registry !== current.registry) changes.registry = input.registry
  if (input.username !== undefined && input.username !== current.username) changes.username = input.username
  if (changes.registry !== undefined && current.registryHost !== undefined) {
    // the reason goes in the top-level message too: some clients (the Terraform provider) show only that
    throw new InvalidInputError(
      [
        {
          path: 'registry',
          message: `cannot change: the credential is pinned to ${current.registryHost}; create a new credential instead`,
        },
      ],
      `Bad request: the registry of a credential pinned to ${current.registryHost} cannot change; create a new credential instead.`,
    )
  }
  if (changes.registry !== undefined && input.secret === undefined) {
    throw new InvalidInputError(
      [{ path: 'secret', message: 'is required with a new registry: a secret belongs to its registry' }],
      'Bad request: changing registry needs a new secret in the same request; a secret belongs to its registry.',
    )
  }
  credentialIssues(current, input)
  return changes
}

// what create checks with its schema, checked against the stored credential: a username its
// (possibly new) registry issues, a secret its username allows, and a new secret when the new
// username gives the secret another meaning (the stored one cannot be read to check it).
function credentialIssues(current: CredentialSummary, input: UpdateDockerRegistryInput): void {
  const registry = input.registry ?? current.registry
  const username = input.username ?? current.username
  const issues = []
  if (registry !== current.registry || username !== current.username) {
    const refusal = providerUsernameRefusal(registry, username)
    if (refusal) issues.push({ path: 'username', message: refusal })
  }
  if (input.secret !== undefined) issues.push(...secretIssues(registry, username, input.secret))
  else if (changesSecretKind(registry, current.username, username)) {
    issues.push({
      path: 'secret',
      message: 'is required with this username: it changes what the secret is (a role ARN, a key)',
    })
  }
  if (issues.length > 0) {
    // the reasons in the top-level message too, as above: some clients show only that
    const reasons = issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')
    throw new InvalidInputError(issues, `Bad request: ${reasons}.`)
  }
}

/**
 * Applies a partial update. Only fields that differ are written, so two concurrent updates of
 * different fields both survive, and `updated_at` moves only when something changed. A new
 * secret is always sealed under a fresh data key (a secret cannot be compared: it is never read),
 * once, however often the write is retried.
 *
 * The write is conditional on the `updated_at` that was read: when another update got in between,
 * the credential is read again and the changes recomputed, so `updated_at` never moves backwards
 * and no change is computed against a stale read.
 */
export async function updateDockerRegistry(
  ports: UpdateDockerRegistryPorts,
  companyId: string,
  id: string,
  input: UpdateDockerRegistryInput,
  options: WriteOptions = {},
  actor?: Actor,
): Promise<DockerRegistry> {
  let secret: SealedSecret | undefined
  for (let attempt = 1; ; attempt += 1) {
    const current = await ports.store.find(companyId, id)
    if (!current) throw new CredentialNotFoundError()
    const changes = plainChanges(current, input)
    if (input.secret !== undefined) {
      secret ??= await ports.sealer.seal(input.secret, { companyId, credentialId: id })
      changes.secret = secret
    }
    if (Object.keys(changes).length === 0) return toDockerRegistry(current)

    // updated_at always moves forward when something changed, even within the same millisecond
    const previous = Date.parse(current.updatedAt)
    const updatedAt = new Date(Math.max(ports.clock().getTime(), previous + 1)).toISOString()
    try {
      const change = actor && {
        actor,
        changedFields: Object.keys(changes).sort(),
        secretRotated: changes.secret !== undefined,
      }
      const written = await ports.store.update(
        companyId,
        id,
        changes,
        { updatedAt, expectedUpdatedAt: current.updatedAt },
        options,
        change,
      )
      if (!written) throw new CredentialNotFoundError()
      // the write was conditional on the version read, so this is exactly what is stored now
      const { secret: _, ...plain } = changes
      return toDockerRegistry({ ...current, ...plain, updatedAt })
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt === UPDATE_ATTEMPTS) throw error
    }
  }
}

/** Ports of the delete use case. */
export interface DeleteDockerRegistryPorts {
  store: CredentialStore
}

/**
 * Deletes a credential of the company (and counts it out), or CredentialNotFoundError. A delete
 * whose answer was lost is retried by the SDK with the same transaction token, which DynamoDB
 * answers as the success it was; a second DELETE from the client finds nothing.
 */
export async function deleteDockerRegistry(
  ports: DeleteDockerRegistryPorts,
  companyId: string,
  id: string,
  options: WriteOptions = {},
  actor?: Actor,
): Promise<void> {
  if (!(await ports.store.delete(companyId, id, options, actor))) throw new CredentialNotFoundError()
}
