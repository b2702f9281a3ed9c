/**
 * Image platforms (`os/architecture[/variant]`, as `docker pull --platform` takes them), and
 * which of an image's platforms a requested one matches.
 */

/** A platform as OCI writes it in an index or an image config. */
export interface ImagePlatform {
  os: string
  architecture: string
  variant?: string
}

const COMPONENT = '[a-z0-9][a-z0-9._-]{0,31}'
const PLATFORM_PATTERN = new RegExp(`^(${COMPONENT})/(${COMPONENT})(?:/(${COMPONENT}))?$`)

/** Parses `linux/amd64` or `linux/arm64/v8`; undefined when it is not one. */
export function parsePlatform(text: string): ImagePlatform | undefined {
  const match = PLATFORM_PATTERN.exec(text)
  if (!match) return undefined
  const [, os = '', architecture = '', variant] = match
  return variant === undefined ? { os, architecture } : { os, architecture, variant }
}

/** `os/architecture[/variant]`. */
export function formatPlatform(platform: ImagePlatform): string {
  const { os, architecture, variant } = platform
  return variant ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`
}

/**
 * Whether an image platform serves a requested one: os and architecture must be equal; a
 * requested variant must be the image's, except that an image without a variant serves any
 * (docker's own leniency, e.g. `linux/arm64` images for `linux/arm64/v8`).
 */
export function platformMatches(requested: ImagePlatform, offered: ImagePlatform): boolean {
  if (requested.os !== offered.os || requested.architecture !== offered.architecture) return false
  if (requested.variant === undefined || offered.variant === undefined) return true
  return requested.variant === offered.variant
}
