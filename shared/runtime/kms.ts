import { KMSClient } from '@aws-sdk/client-kms'
import { AWS_CLIENT_CONFIG } from './aws-client-config.ts'

/** The container's one KMS client (`AWS_ENDPOINT_URL_KMS` points it at the local emulator). */
export const kms = new KMSClient(AWS_CLIENT_CONFIG)
