import { render, type RenderResult } from '@testing-library/vue';
import { createPinia, setActivePinia } from 'pinia';
import type { Component } from 'vue';
import { createMemoryHistory, type Router } from 'vue-router';
import { makeRouter } from './router/index';

/** Renders a view with a fresh pinia and an in-memory router at `path`. */
export async function renderAt(
  component: Component,
  path = '/',
  props: Record<string, unknown> = {},
): Promise<RenderResult & { router: Router }> {
  // As after an earlier sign-in: the app tries its refresh cookie first (the tests answer that call).
  document.cookie = 'twofold_signed_in=1; path=/';
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = makeRouter(createMemoryHistory('/app/'));
  await router.push(path);
  await router.isReady();
  const result = render(component, { props, global: { plugins: [pinia, router] } });
  return { ...result, router };
}

/** A fetch stub answering each call with the next of `answers` (status, body, headers). */
export function fetchAnswers(...answers: Array<[number, unknown, Record<string, string>?]>): typeof fetch {
  const queue = [...answers];
  return (async () => {
    const [status, body, headers] = queue.shift() ?? [404, { error: 'not_found', message: 'Not found.' }];
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    });
  }) as typeof fetch;
}
