import { isCredentialLimit, MAX_CREDENTIAL_LIMIT } from '../domain/credential-limit.ts'
import { requiredEnv } from './config.ts'

/** Reads `CREDENTIAL_LIMIT`, failing the cold start on anything but 1 to 10,000. */
function readCredentialLimit(): number {
  const limit = Number(requiredEnv('CREDENTIAL_LIMIT'))
  if (!isCredentialLimit(limit)) {
    throw new Error(`CREDENTIAL_LIMIT must be a whole number from 1 to ${MAX_CREDENTIAL_LIMIT}`)
  }
  return limit
}

/** Most credentials one company may hold (the stage setting `credentialLimit`). */
export const credentialLimit = readCredentialLimit()
