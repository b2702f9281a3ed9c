import type { CredentialSummary } from '../domain/ports.ts'
import type { CredentialItem } from './docker-registry-store.ts'

/** The attributes a credential's summary is stored as: in its item, and in its Idempotency-Key record. */
export type CredentialSummaryAttributes = Pick<
  CredentialItem,
  'id' | 'company_id' | 'name' | 'registry' | 'username' | 'created_at' | 'updated_at' | 'registry_host'
>

/** A credential's summary as table attributes (snake case; no pin attribute when unpinned). */
export function toSummaryAttributes(credential: CredentialSummary): CredentialSummaryAttributes {
  return {
    id: credential.id,
    company_id: credential.companyId,
    name: credential.name,
    registry: credential.registry,
    username: credential.username,
    created_at: credential.createdAt,
    updated_at: credential.updatedAt,
    ...(credential.registryHost === undefined ? {} : { registry_host: credential.registryHost }),
  }
}

/** Maps stored summary attributes (a whole item, a projection, an idempotency record's copy) to the domain's summary. */
export function toCredentialSummary(attributes: CredentialSummaryAttributes): CredentialSummary {
  return {
    companyId: attributes.company_id,
    id: attributes.id,
    name: attributes.name,
    registry: attributes.registry,
    username: attributes.username,
    createdAt: attributes.created_at,
    updatedAt: attributes.updated_at,
    ...(attributes.registry_host === undefined ? {} : { registryHost: attributes.registry_host }),
  }
}
