import { createKmsSealer } from '../adapters/kms-envelope.ts'
import { requiredEnv } from './config.ts'
import { kms } from './kms.ts'

/** Seals secrets under the secrets key (`SECRETS_KEY_ARN`); what the writing functions get. */
export const secretSealer = createKmsSealer({ kms, keyId: requiredEnv('SECRETS_KEY_ARN') })
