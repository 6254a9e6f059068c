import { describe, expect, it } from 'vitest';
import { erasedDetail } from './audit-erasure.js';

const person = { username: 'Alice_1', email: 'alice@example.com' };

describe('erasedDetail', () => {
  it('keeps a detail that names nobody (null: no change)', () => {
    expect(erasedDetail(JSON.stringify({ by: 3, method: 'totp', email: true, session_id: 9 }), person)).toBeNull();
    expect(erasedDetail('{}', person)).toBeNull();
  });

  it('drops text under personal keys, any address, and any value containing the name or address', () => {
    const detail = {
      username: 'x',
      new_email: 'y',
      address_ref: 'abc',
      ip: '192.0.2.1',
      user_agent: 'UA',
      display_name: 'Al',
      from: 'old@example.org',
      note: 'by ALICE_1 today',
      to: 'ALICE@example.com',
      reason: 'wrong_password',
      count: 2,
      flag: false,
      description: 'kept: ip is only part of the word',
    };
    expect(JSON.parse(erasedDetail(JSON.stringify(detail), person)!)).toEqual({
      reason: 'wrong_password',
      count: 2,
      flag: false,
      description: 'kept: ip is only part of the word',
    });
  });

  it('without an address, still matches the name; an unreadable detail becomes empty', () => {
    expect(erasedDetail(JSON.stringify({ who: 'alice_1' }), { username: 'Alice_1', email: null })).toBe('{}');
    expect(erasedDetail('not json', person)).toBe('{}');
    expect(erasedDetail('[1,2]', person)).toBe('{}');
  });
});
