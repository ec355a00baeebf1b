export interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  why: string;
}

const key = { 'x-api-key': 'demo-key' };

/** One request per behaviour worth seeing in a trace. */
export const traffic: Call[] = [
  { method: 'GET', path: '/products/lamp', why: 'gateway → inventory (fetch), 200' },
  {
    method: 'POST',
    path: '/orders',
    body: { sku: 'chair', quantity: 2 },
    headers: key,
    why: 'guard + validation, two inventory calls (axios), 201',
  },
  { method: 'GET', path: '/products/unicorn', why: 'inventory answers 404, passed on' },
  {
    method: 'POST',
    path: '/orders',
    body: { sku: 'desk', quantity: 1 },
    headers: key,
    why: 'out of stock: 409 from inventory',
  },
  { method: 'POST', path: '/orders', body: { sku: 'lamp', quantity: 1 }, why: 'no API key: the guard answers 403' },
  {
    method: 'POST',
    path: '/orders',
    body: { sku: 'lamp', quantity: 99, coupon: 'x' },
    headers: key,
    why: 'validation pipe answers 400',
  },
  { method: 'GET', path: '/orders/ord-42/invoice', why: 'slow: a 120 ms invoice render' },
  { method: 'GET', path: '/products/lamp/delivery', why: 'an Observable result' },
  { method: 'GET', path: '/reports/daily', why: 'inventory fails with 500' },
  { method: 'GET', path: '/health', why: 'ignored: no trace' },
];
