import { BlockList, isIP } from 'node:net'

/**
 * Which addresses a registry check may connect to. The registry host is chosen by a customer and
 * the check runs inside AWS Lambda, where the instance metadata service and the VPC are
 * reachable: every internal range is refused (threat: server-side request forgery).
 */

/** One resolved address of a host name. */
export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

// ranges no customer registry can legitimately live in. loopback is separate so that the local
// stack can opt in to it; everything else (metadata service, VPC, carrier NAT, multicast, ...)
// is refused everywhere (threat: SSRF into the Lambda's own network).
const INTERNAL_IPV4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", includes the unspecified address
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local: the instance metadata service and the VPC DNS resolver
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes the limited broadcast 255.255.255.255
]
const INTERNAL_IPV6: [string, number][] = [
  ['::', 96], // unspecified and the deprecated IPv4-compatible addresses (::1 is added below)
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT), e.g. ::ffff:0:a9fe:a9fe for 169.254.169.254
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, includes Teredo
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing
  ['64:ff9b:1::', 48], // local-use NAT64
  ['fc00::', 7], // unique local, includes the metadata service's fd00:ec2::254
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
]
const LOOPBACK: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]

/**
 * A predicate that is true for every address a registry check must not connect to; IPv4 rules
 * also match IPv4-mapped IPv6 addresses, and anything that does not parse is refused.
 */
export function createAddressPolicy(allowLoopback: boolean): (address: ResolvedAddress) => boolean {
  const blocked = new BlockList()
  for (const [network, prefix] of INTERNAL_IPV4) blocked.addSubnet(network, prefix, 'ipv4')
  for (const [network, prefix] of INTERNAL_IPV6) blocked.addSubnet(network, prefix, 'ipv6')
  if (!allowLoopback) for (const [network, prefix, type] of LOOPBACK) blocked.addSubnet(network, prefix, type)

  return function isBlocked({ address, family }: ResolvedAddress): boolean {
    // BlockList answers false for a string it cannot parse, so anything that is not a valid
    // address of the stated family is refused here (fail closed)
    if (isIP(address) !== family) return true
    if (family === 4) return blocked.check(address, 'ipv4')
    if (blocked.check(address, 'ipv6')) return true
    // an IPv4 address carried inside NAT64 (64:ff9b::/96) or 6to4 (2002::/16) reaches that IPv4
    // address through a gateway, so it must pass the IPv4 rules too
    const embedded = embeddedIpv4(address)
    return embedded !== undefined && blocked.check(embedded, 'ipv4')
  }
}

/** the IPv4 address inside a NAT64 or 6to4 IPv6 address, if it is one. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address)
  if (!bytes) return undefined
  const isNat64 = bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b
  if (isNat64 && bytes.subarray(4, 12).every((byte) => byte === 0)) return bytes.subarray(12, 16).join('.')
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.subarray(2, 6).join('.')
  return undefined
}

/** the 16 bytes of a textual IPv6 address (zone ids dropped), or undefined. */
function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = address.split('%')[0] ?? ''
  const groups: number[] = []
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(1).map(Number)
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16))
  const headGroups = parse(head)
  const tailGroups = tail === undefined ? [] : parse(tail)
  const missing = 8 - headGroups.length - tailGroups.length
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined
  groups.push(...headGroups, ...new Array<number>(missing).fill(0), ...tailGroups)
  if (groups.some((group) => Number.isNaN(group) || group < 0 || group > 0xffff)) return undefined
  const bytes = new Uint8Array(16)
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8
    bytes[index * 2 + 1] = group & 0xff
  })
  return bytes
}
