import { generateKeyPairSync, type KeyObject } from 'node:crypto'

/** A Google service-account key file as the console downloads it, with a fresh RSA key. */
export interface TestServiceAccountKey {
  /** The JSON file's text (pretty-printed, as downloaded: it has line breaks). */
  json: string
  clientEmail: string
  privateKeyId: string
  publicKey: KeyObject
}

/** A new service-account key (RSA 2048, PKCS #8 PEM, like Google's). */
export function testServiceAccountKey(
  clientEmail = 'puller@acme-project.iam.gserviceaccount.com',
): TestServiceAccountKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const privateKeyId = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
  const json = JSON.stringify(
    {
      type: 'service_account',
      project_id: 'acme-project',
      private_key_id: privateKeyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: '102938475610293847561',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      // a key names a token endpoint of its own; the service never uses it
      token_uri: 'https://attacker.example/token',
      universe_domain: 'googleapis.com',
    },
    null,
    2,
  )
  return { json, clientEmail, privateKeyId, publicKey }
}
