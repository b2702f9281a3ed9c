import type { EcrTokenExchanger } from '../domain/resolve-credential.ts'
import { loadOnFirstUse } from './load-on-first-use.ts'

// the ECR client is needed only for `ecr` credentials: loaded on the first one, not at cold start.
const exchanger = loadOnFirstUse(async () => {
  const { createEcrTokenExchanger } = await import('../adapters/ecr-token-exchanger.ts')
  return createEcrTokenExchanger()
})

/** The container's ECR token exchanger; its client code is loaded on the first exchange. */
export const ecrTokenExchanger: EcrTokenExchanger = {
  async exchange(request) {
    return (await exchanger()).exchange(request)
  },
}
