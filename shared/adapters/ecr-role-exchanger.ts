import { randomUUID } from 'node:crypto'
import {
  EXTERNAL_ID_PREFIX,
  RegistryCredentialsRejectedError,
  type ShortLivedLogin,
} from '../domain/short-lived-credentials.ts'
import type { EcrTokenExchanger } from './ecr-token-exchanger.ts'
import type { AssumeRoleRequest, RoleAssumer } from './sts-role-assumer.ts'

/** Exchanges a customer's role for an ECR login. */
export interface EcrRoleExchanger {
  exchange(request: AssumeRoleRequest): Promise<ShortLivedLogin>
}

/** Why a role is refused when its trust policy lets this service in without the ExternalId. */
export const TRUST_WITHOUT_EXTERNAL_ID =
  'The role trusts this service without requiring your ExternalId; add the sts:ExternalId condition from GET /v3/docker-registries/external-id to its trust policy.'

/**
 * ECR by role: first a probe, assuming the role with an ExternalId no company has, which a trust
 * policy that requires the company's ExternalId must refuse; a role that lets the probe in trusts
 * this service without the ExternalId, so any other customer of the platform could name it
 * (threat: the confused deputy), and it is refused. Then the role is assumed with the company's
 * ExternalId and its temporary credentials get a registry token in the image's region.
 */
export function createEcrRoleExchanger({
  assumer,
  ecr,
}: {
  assumer: RoleAssumer
  ecr: EcrTokenExchanger
}): EcrRoleExchanger {
  return {
    async exchange(request) {
      const probe = await assumer
        .assume({ ...request, externalId: `${EXTERNAL_ID_PREFIX}probe-${randomUUID()}` })
        .then(
          () => 'admitted' as const,
          (error: unknown) => {
            if (error instanceof RegistryCredentialsRejectedError) return 'refused' as const
            throw error
          },
        )
      if (probe === 'admitted') throw new RegistryCredentialsRejectedError(TRUST_WITHOUT_EXTERNAL_ID)
      const credentials = await assumer.assume(request)
      return ecr.exchange({
        region: request.region,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      })
    },
  }
}
