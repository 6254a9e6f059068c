import { describe, expect, it } from 'vitest';
import { MAX_PRICE_CENTS, centsToPrice, decimalToCents, priceToCents } from './money.js';

describe('money', () => {
  it.each([
    [0, 0],
    [0.1, 10],
    [0.2, 20],
    [1.15, 115],
    [19.99, 1999],
    [100, 10000],
    [99999999.99, MAX_PRICE_CENTS],
  ])('reads %s as %s cents and writes it back exactly', (price, cents) => {
    expect(priceToCents(price)).toBe(cents);
    expect(centsToPrice(cents)).toBe(price);
    expect(JSON.stringify(centsToPrice(cents))).toBe(JSON.stringify(price));
  });

  it.each([1.155, 0.001, -1, 100000000, 1e-7, Number.NaN, Infinity])('refuses %s', (price) => {
    expect(priceToCents(price)).toBeNull();
  });

  it('round-trips every cent value from 0.00 to 20.00', () => {
    for (let cents = 0; cents <= 2000; cents++) expect(priceToCents(centsToPrice(cents))).toBe(cents);
  });

  it.each([
    ['19.99', 1999],
    ['0.10', 10],
    ['5', 500],
    ['5.5', 550],
    ['3.100', 310],
    ['12345678.90', 1234567890],
    ['99999999.99', MAX_PRICE_CENTS],
    [' 7.25 ', 725],
  ])('reads DECIMAL text %j as %s cents', (text, cents) => {
    expect(decimalToCents(text)).toBe(cents);
  });

  it.each(['1.155', '-1.00', '1e3', '', 'abc', '100000000.00', '.5', '1.'])('refuses DECIMAL text %j', (text) => {
    expect(decimalToCents(text)).toBeNull();
  });
});
