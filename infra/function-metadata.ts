/**
 * The CloudFormation metadata key on every function resource that names its `functions/` folder
 * (`create-docker-registry`), so that a reader of the cloud assembly (the local stack's bundle
 * mode) finds each function's deployed asset by name rather than by construct path or order.
 * No CDK import here: the local stack reads it too.
 */
export const FUNCTION_NAME_METADATA_KEY = 'registry-credentials:function'
