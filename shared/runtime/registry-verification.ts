import type { RegistryVerifier, VerificationPorts } from '../domain/verify-credential.ts'
import { credentialExchanger } from './credential-exchange.ts'
import { loadOnFirstUse } from './load-on-first-use.ts'

// deployed stages never set these: registries are reached over https on public addresses only.
// the local stack sets both, so a registry on the developer's loopback can be checked.
const allowInsecureHttp = process.env.REGISTRY_VERIFY_ALLOW_HTTP === 'true'
const allowLoopback = process.env.REGISTRY_VERIFY_ALLOW_LOOPBACK === 'true'

// the verifier (HTTP client, address vetting, token flow) runs only for `?verify=true` and the
// verify route: loaded on the first check, not at every cold start of create.
const verifier = loadOnFirstUse(async () => {
  const { createRegistryVerifier } = await import('../adapters/registry-verifier.ts')
  return createRegistryVerifier({ allowInsecureHttp, allowLoopback })
})

/**
 * Where plain http is allowed (the local stack), a registry that does not speak TLS is retried
 * over http, as Docker does for its "insecure registries".
 */
const registryVerifier: RegistryVerifier = {
  async verify(input) {
    const loaded = await verifier()
    const result = await loaded.verify(input)
    if (!allowInsecureHttp || result.status !== 'tls') return result
    return loaded.verify({ ...input, scheme: 'http' })
  },
}

/** The container's verification ports; the verifier and the exchanger load their code on first use. */
export const verificationPorts: VerificationPorts = {
  verifier: registryVerifier,
  // the same exchanger as resolve, but never its cache: a check is of the credential as it is now
  exchanger: credentialExchanger,
}
