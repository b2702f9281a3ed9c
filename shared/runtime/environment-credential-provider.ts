import { fromEnv } from '@aws-sdk/credential-provider-env'

/**
 * What the Lambda bundles get in place of `@aws-sdk/credential-provider-node` (an esbuild alias in
 * the RegistryFunction construct): the SDK clients' default credential chain reduced to its first
 * link, the environment. Lambda always puts the execution role's credentials in the environment,
 * so the chain's other links (SSO, STS web identity, ini files, processes, IMDS, with their nested
 * STS/SSO clients) can never run there and only cost cold-start time. The local stack and the
 * `api-key` command are not bundled and keep the full chain.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init)
