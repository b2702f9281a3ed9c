import * as v from 'valibot'
import { externalIdFor } from './short-lived-credentials.ts'

/**
 * What a company puts in the trust policy of a role it lets this service assume for ECR: the
 * ExternalId this service always sends for it, and the roles of this service that assume it.
 */

/** The answer of `GET /v3/docker-registries/external-id` (extension). */
export const ExternalIdentity = v.strictObject({
  external_id: v.pipe(
    v.string(),
    v.description(
      'The ExternalId this service sends, for your company only, whenever it assumes one of your roles (`ecr` credentials with username `assume-role`)',
    ),
    v.examples(['registry-credentials-0195f1f6-8f5e-7000-8000-000000000001']),
  ),
  principals: v.pipe(
    v.array(v.string()),
    v.description("This service's IAM roles that assume your role: the resolve function and verification"),
  ),
  trust_policy: v.pipe(
    v.looseObject({ Version: v.string(), Statement: v.array(v.looseObject({})) }),
    v.description(
      'A trust policy to paste into your role: it trusts these principals only, and only with your ExternalId',
    ),
  ),
})
/** The answer of `GET /v3/docker-registries/external-id`. */
export type ExternalIdentity = v.InferOutput<typeof ExternalIdentity>

/** The company's ExternalId and the trust policy that requires it. */
export function describeExternalIdentity(companyId: string, principals: readonly string[]): ExternalIdentity {
  const externalId = externalIdFor(companyId)
  return {
    external_id: externalId,
    principals: [...principals],
    trust_policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [...principals] },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': externalId } },
        },
      ],
    },
  }
}
