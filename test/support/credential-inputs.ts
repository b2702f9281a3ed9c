/** A valid create body; each case below changes one thing about it. */
export const validCreateBody = {
  name: 'My Docker Hub',
  registry: 'dockerHub',
  username: 'my-docker-user',
  secret: 'my-secret-token',
} as const

const { name: _, ...withoutName } = validCreateBody
const { username: __, ...withoutUsername } = validCreateBody
const { secret: ___, ...withoutSecret } = validCreateBody

/** A create body the contract refuses, and the field it must name. */
export interface InvalidCase {
  title: string
  body: unknown
  /** The issue path the error must list (`''` for the body as a whole). */
  path: string
  /**
   * Refused for the credential's registry (a username its provider does not issue, a secret its
   * username does not allow): a PATCH is checked against the stored registry by the update itself.
   */
  withRegistry?: true
}

/** Every boundary the contract draws, on the refusing side. */
export const invalidCreateBodies: InvalidCase[] = [
  { title: 'name of 0 characters', body: { ...validCreateBody, name: '' }, path: 'name' },
  { title: 'name of 256 characters', body: { ...validCreateBody, name: 'n'.repeat(256) }, path: 'name' },
  { title: 'name as a number', body: { ...validCreateBody, name: 42 }, path: 'name' },
  { title: 'name as null', body: { ...validCreateBody, name: null }, path: 'name' },
  { title: 'name missing', body: withoutName, path: 'name' },
  { title: 'username empty', body: { ...validCreateBody, username: '' }, path: 'username' },
  {
    title: 'username of 40 characters',
    body: { ...validCreateBody, username: 'u'.repeat(40) },
    path: 'username',
    withRegistry: true,
  },
  {
    title: 'username starting with "-"',
    body: { ...validCreateBody, username: '-user' },
    path: 'username',
    withRegistry: true,
  },
  {
    title: 'username starting with "."',
    body: { ...validCreateBody, username: '.user' },
    path: 'username',
    withRegistry: true,
  },
  {
    title: 'username ending with "_"',
    body: { ...validCreateBody, username: 'user_' },
    path: 'username',
    withRegistry: true,
  },
  {
    title: 'username ending with "-"',
    body: { ...validCreateBody, username: 'user-' },
    path: 'username',
    withRegistry: true,
  },
  {
    title: 'username with "@"',
    body: { ...validCreateBody, username: 'me@example.com' },
    path: 'username',
    withRegistry: true,
  },
  { title: 'username with a space', body: { ...validCreateBody, username: 'my user' }, path: 'username' },
  {
    title: 'username with a non-ASCII letter',
    body: { ...validCreateBody, username: 'josé' },
    path: 'username',
  },
  { title: 'username as a number', body: { ...validCreateBody, username: 1234 }, path: 'username' },
  { title: 'username missing', body: withoutUsername, path: 'username' },
  {
    title: 'secret of 7 characters',
    body: { ...validCreateBody, secret: 's'.repeat(7) },
    path: 'secret',
    withRegistry: true,
  },
  {
    title: 'secret of 129 characters',
    body: { ...validCreateBody, secret: 's'.repeat(129) },
    path: 'secret',
    withRegistry: true,
  },
  {
    title: 'secret with a line break',
    body: { ...validCreateBody, secret: 'line\nbreak-secret' },
    path: 'secret',
    withRegistry: true,
  },
  { title: 'secret as a number', body: { ...validCreateBody, secret: 12345678 }, path: 'secret' },
  { title: 'secret as an object', body: { ...validCreateBody, secret: { value: 'x' } }, path: 'secret' },
  { title: 'secret missing', body: withoutSecret, path: 'secret' },
  { title: 'registry not in the enum', body: { ...validCreateBody, registry: 'quay' }, path: 'registry' },
  {
    title: 'registry in the wrong case',
    body: { ...validCreateBody, registry: 'DockerHub' },
    path: 'registry',
  },
  { title: 'registry as null', body: { ...validCreateBody, registry: null }, path: 'registry' },
  {
    title: 'an unknown property',
    body: { ...validCreateBody, company_id: crypto.randomUUID() },
    path: 'company_id',
  },
  { title: 'an array body', body: [validCreateBody], path: '' },
  { title: 'a null body', body: null, path: '' },
  // strings are sent as they are: this one is the JSON string "just a string"
  { title: 'a string body', body: '"just a string"', path: '' },
  { title: 'a number body', body: 42, path: '' },
]

/** Bodies on the accepting side of each boundary. */
export const validCreateBodies: { title: string; body: Record<string, unknown> }[] = [
  { title: 'name of 1 character', body: { ...validCreateBody, name: 'n' } },
  { title: 'name of 255 characters', body: { ...validCreateBody, name: 'n'.repeat(255) } },
  { title: 'username of 1 character', body: { ...validCreateBody, username: 'u' } },
  { title: 'username of 39 characters', body: { ...validCreateBody, username: 'u'.repeat(39) } },
  { title: 'username with ".", "_" and "-" inside', body: { ...validCreateBody, username: 'a.b_c-d' } },
  {
    title: 'username that is an AWS access key id',
    body: { ...validCreateBody, username: 'AKIAIOSFODNN7EXAMPLE' },
  },
  { title: 'secret of 8 characters', body: { ...validCreateBody, secret: 's'.repeat(8) } },
  { title: 'secret of 128 characters', body: { ...validCreateBody, secret: 's'.repeat(128) } },
  { title: 'secret with symbols and spaces', body: { ...validCreateBody, secret: 'p@ss w0rd/+=!"' } },
  ...['gcr', 'ecr', 'dockerHub', 'github', 'gitlab', 'digitalOcean', 'custom'].map((registry) => ({
    title: `registry ${registry}`,
    body: { ...validCreateBody, registry },
  })),
]
