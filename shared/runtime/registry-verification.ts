import { createRegistryVerifier } from '../adapters/registry-verifier.ts'
import type { RegistryVerifier, VerificationPorts } from '../domain/verify-credential.ts'
import { credentialExchanger } from './credential-exchange.ts'

// deployed stages never set these: registries are reached over https on public addresses only.
// the local stack sets both, so a registry on the developer's loopback can be checked.
const allowInsecureHttp = process.env.REGISTRY_VERIFY_ALLOW_HTTP === 'true'
const allowLoopback = process.env.REGISTRY_VERIFY_ALLOW_LOOPBACK === 'true'

const verifier = createRegistryVerifier({ allowInsecureHttp, allowLoopback })

/**
 * Where plain http is allowed (the local stack), a registry that does not speak TLS is retried
 * over http, as Docker does for its "insecure registries".
 */
const registryVerifier: RegistryVerifier = {
  async verify(input) {
    const result = await verifier.verify(input)
    if (!allowInsecureHttp || result.status !== 'tls') return result
    return verifier.verify({ ...input, scheme: 'http' })
  },
}

/** The container's verification ports. */
export const verificationPorts: VerificationPorts = {
  verifier: registryVerifier,
  // the same exchanger as resolve, but never its cache: a check is of the credential as it is now
  exchanger: credentialExchanger,
}
