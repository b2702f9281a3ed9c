import { KMSClient } from '@aws-sdk/client-kms'

/** The container's one KMS client (`AWS_ENDPOINT_URL_KMS` points it at the local emulator). */
export const kms = new KMSClient({})
