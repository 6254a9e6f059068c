import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a per-IP limit counts under. An IPv4 address is itself. An IPv6 client is its /64:
 * one subscriber, host or VM is normally handed a whole /64 (RFC 6177, RFC 7934 §7), so counting
 * single addresses would let a client step through 2^64 of them to dodge every limit. An
 * IPv4-mapped address (`::ffff:1.2.3.4`, RFC 4291 §2.5.5.2, what a dual-stack socket reports for
 * an IPv4 peer) is the IPv4 address it carries, so both spellings share one count.
 */
export function clientKey(ip: string): string {
  const address = ip.split('%')[0] ?? ip; // a zone index (fe80::1%eth0) names the interface, not the client
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return ip;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16));
}
