import { createRouter, createWebHistory } from 'vue-router';

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [{ path: '/:pathMatch(.*)*', component: { template: '<p>Loading…</p>' } }],
});
