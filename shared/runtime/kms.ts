import { KMSClient } from '@aws-sdk/client-kms'
import { requiredEnv } from './config.ts'

/** The container's one KMS client (`AWS_ENDPOINT_URL_KMS` points it at the local emulator). */
export const kms = new KMSClient({})

/** ARN of the key that wraps the secrets' data keys. */
export const secretsKeyArn = requiredEnv('SECRETS_KEY_ARN')
