import { Aws, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib'
import {
  AttributeType,
  Billing,
  type ITableV2,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb'
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam'
import { type IKey, Key } from 'aws-cdk-lib/aws-kms'
import type { Construct } from 'constructs'
import { IDEMPOTENCY_EXPIRY_ATTRIBUTE } from '../shared/adapters/idempotency-record.ts'

/** Properties of the {@link StatefulStack}. */
export interface StatefulStackProps extends StackProps {
  /** Alias of the secrets key, e.g. `alias/registry-credentials/dev/secrets`. */
  readonly secretsKeyAlias: string
  /** Names of the only roles the secrets key lets decrypt (the internal resolve and verifier functions). */
  readonly decryptingRoleNames: readonly string[]
}

/**
 * What outlives every deployment: the single table and the key that wraps the secrets' data keys.
 * Both are retained when the stack is deleted; the table also refuses deletion outright.
 */
export class StatefulStack extends Stack {
  /**
   * The single table: credentials under `COMPANY#<id>` / `DOCKER_REGISTRY#<id>`, API keys under
   * `API_KEY#<sha256>` / `API_KEY`. Its stream (new and old images) drives change events.
   */
  readonly table: ITableV2
  /** The customer-managed key used only for envelope encryption of registry secrets. */
  readonly secretsKey: IKey

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props)

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // the AWS managed key, never the secrets key: a role that may read the table must not
      // thereby be able to decrypt the envelopes stored in it.
      encryption: TableEncryptionV2.awsManagedKey(),
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      // only Idempotency-Key and activity records carry it; credentials and API keys never expire
      timeToLiveAttribute: IDEMPOTENCY_EXPIRY_ATTRIBUTE,
    })

    // the default key policy lets the account administer the key and IAM decide who may use it
    // (only for the docker-registry-secret encryption context); the statement below narrows who
    // may ever unwrap a data key.
    this.secretsKey = new Key(this, 'SecretsKey', {
      description: 'Wraps the data keys of Docker registry secrets (envelope encryption)',
      alias: props.secretsKeyAlias,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    // defence in depth beneath IAM: even a principal with kms:Decrypt on every key (an
    // administrator, a broad CI role) cannot open an envelope, nor re-wrap a data key under a key
    // of its own (ReEncryptFrom needs no Decrypt); only the named roles can unwrap. An account
    // administrator can still change the key policy itself: that is audited by CloudTrail.
    this.secretsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyNamedRolesDecrypt',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Decrypt', 'kms:ReEncrypt*'],
        resources: ['*'],
        conditions: {
          StringNotLike: {
            'aws:PrincipalArn': props.decryptingRoleNames.map(
              (name) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${name}`,
            ),
          },
        },
      }),
    )
  }
}
