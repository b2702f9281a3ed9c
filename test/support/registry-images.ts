import { createHash, randomBytes } from 'node:crypto'

/**
 * Pushes test images into a running registry through the Registry HTTP API v2 itself (blob
 * uploads and manifest PUTs), as `docker push` would: a single-platform OCI image, or an OCI
 * index over one image per platform. No Docker needed.
 */

/** A platform of a pushed image. */
export interface TestPlatform {
  os: string
  architecture: string
  variant?: string
}

/** What was pushed. */
export interface PushedImage {
  repository: string
  tag: string
  /** Digest of what the tag points at (the manifest, or the index). */
  digest: string
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

function digestOf(content: Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status}: ${await response.text()}`)
  }
}

/** Pushes blobs and manifests to one registry with one Authorization header. */
export function registryPusher(registryHost: string, authorization: string) {
  const base = `http://${registryHost}/v2/`

  async function uploadBlob(repository: string, content: Buffer): Promise<{ digest: string; size: number }> {
    const digest = digestOf(content)
    const start = await fetch(new URL(`${repository}/blobs/uploads/`, base), {
      method: 'POST',
      headers: { authorization },
    })
    await expectStatus(start, 202, `starting the upload of ${digest}`)
    const location = new URL(start.headers.get('location') ?? '', base)
    location.searchParams.set('digest', digest)
    const put = await fetch(location, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/octet-stream' },
      body: content,
    })
    await expectStatus(put, 201, `uploading ${digest}`)
    return { digest, size: content.length }
  }

  async function putManifest(repository: string, reference: string, mediaType: string, body: unknown) {
    const content = Buffer.from(JSON.stringify(body))
    const response = await fetch(new URL(`${repository}/manifests/${reference}`, base), {
      method: 'PUT',
      headers: { authorization, 'content-type': mediaType },
      body: content,
    })
    await expectStatus(response, 201, `putting the manifest ${repository}:${reference}`)
    return { digest: digestOf(content), size: content.length }
  }

  /** one image (config + one layer) for a platform, by digest. */
  async function pushPlatformImage(repository: string, platform: TestPlatform, reference?: string) {
    const config = await uploadBlob(
      repository,
      Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] }, config: {} })),
    )
    const layer = await uploadBlob(repository, randomBytes(64))
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }
    const content = Buffer.from(JSON.stringify(manifest))
    return putManifest(repository, reference ?? digestOf(content), OCI_MANIFEST, manifest)
  }

  return {
    /** A single-platform image at `repository:tag`. */
    async pushImage(repository: string, tag: string, platform: TestPlatform): Promise<PushedImage> {
      const { digest } = await pushPlatformImage(repository, platform, tag)
      return { repository, tag, digest }
    },
    /** An OCI index at `repository:tag` over one image per platform. */
    async pushIndex(repository: string, tag: string, platforms: TestPlatform[]): Promise<PushedImage> {
      const manifests = []
      for (const platform of platforms) {
        const pushed = await pushPlatformImage(repository, platform)
        manifests.push({ mediaType: OCI_MANIFEST, ...pushed, platform })
      }
      const { digest } = await putManifest(repository, tag, OCI_INDEX, {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests,
      })
      return { repository, tag, digest }
    },
  }
}

/** `Basic` authorization for a test login. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
}

/** A Bearer authorization with push and pull on `repository`, from a test token service. */
export async function pushToken(realm: string, service: string, repository: string, login: string) {
  const url = new URL(realm)
  url.searchParams.set('service', service)
  url.searchParams.set('scope', `repository:${repository}:pull,push`)
  const response = await fetch(url, { headers: { authorization: login } })
  await expectStatus(response, 200, 'fetching a push token')
  const { token } = (await response.json()) as { token: string }
  return `Bearer ${token}`
}
