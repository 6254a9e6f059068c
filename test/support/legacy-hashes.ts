import { execFileSync } from 'node:child_process';

/**
 * Password hashes in the exact formats of Werkzeug's generate_password_hash, produced by
 * Python's hashlib (the library Werkzeug itself calls), not by the code under test:
 *   pbkdf2:<digest>:<iterations>$<salt>$<hex>   (hashlib.pbkdf2_hmac)
 *   scrypt:<N>:<r>:<p>$<salt>$<hex>             (hashlib.scrypt, maxmem = 132*N*r*p, 64 bytes)
 * Several passwords are hashed in one Python process.
 */
export interface WerkzeugRequest {
  method: string;
  password: string;
  salt?: string;
}

const PYTHON = String.raw`
import hashlib, json, secrets, string, sys
def gen_salt(n):
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))
out = []
for req in json.load(sys.stdin):
    method, password = req["method"], req["password"].encode("utf-8")
    salt = req.get("salt") or gen_salt(16)
    parts = method.split(":")
    if parts[0] == "scrypt":
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        h = hashlib.scrypt(password, salt=salt.encode("utf-8"), n=n, r=r, p=p, maxmem=132 * n * r * p).hex()
    else:
        h = hashlib.pbkdf2_hmac(parts[1], password, salt.encode("utf-8"), int(parts[2])).hex()
    out.append(method + "$" + salt + "$" + h)
print(json.dumps(out))
`;

export function werkzeugHashes(requests: WerkzeugRequest[]): string[] {
  const output = execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify(requests), encoding: 'utf8' });
  return JSON.parse(output) as string[];
}

export function werkzeugHash(method: string, password: string, salt?: string): string {
  const [hash] = werkzeugHashes([{ method, password, salt }]);
  if (!hash) throw new Error('python3 produced no hash');
  return hash;
}
