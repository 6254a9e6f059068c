import { createRouter, createWebHistory, type Router, type RouterHistory } from 'vue-router';
import { signInDestination } from '../api/redirect';
import { useSessionStore } from '../stores/session';
import HomeView from '../views/HomeView.vue';
import LoginView from '../views/LoginView.vue';
import RegisterView from '../views/RegisterView.vue';
import SecurityView from '../views/SecurityView.vue';
import ProductsView from '../views/ProductsView.vue';
import TokenView from '../views/TokenView.vue';
import AdminView from '../views/AdminView.vue';
import ForgotPasswordView from '../views/ForgotPasswordView.vue';
import ResetPasswordView from '../views/ResetPasswordView.vue';
import VerifyEmailView from '../views/VerifyEmailView.vue';
import VerifyCodeView from '../views/VerifyCodeView.vue';
import NotFoundView from '../views/NotFoundView.vue';
import OidcView from '../views/OidcView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    auth?: boolean;
    admin?: boolean;
    guest?: boolean;
    title?: string;
  }
}

export const routes = [
  { path: '/', name: 'home', component: HomeView, meta: { auth: true, title: 'Account' } },
  { path: '/login', name: 'login', component: LoginView, meta: { guest: true, title: 'Sign in' } },
  { path: '/register', name: 'register', component: RegisterView, meta: { guest: true, title: 'Create account' } },
  { path: '/security', name: 'security', component: SecurityView, meta: { auth: true, title: 'Security' } },
  { path: '/products', name: 'products', component: ProductsView, meta: { auth: true, title: 'Products' } },
  { path: '/token', name: 'token', component: TokenView, meta: { title: 'Token inspector' } },
  { path: '/admin', name: 'admin', component: AdminView, meta: { auth: true, admin: true, title: 'Administration' } },
  { path: '/forgot-password', name: 'forgot', component: ForgotPasswordView, meta: { title: 'Forgot password' } },
  { path: '/reset-password', name: 'reset', component: ResetPasswordView, meta: { title: 'Choose a new password' } },
  { path: '/verify-email', name: 'verify', component: VerifyEmailView, meta: { title: 'Verify email' } },
  // The email-code app's page: prove an address with a mailed code (GET /verify in a browser lands here).
  { path: '/verify', name: 'verify-code', component: VerifyCodeView, meta: { title: 'Confirm an email address' } },
  // OpenID Connect's sign-in step: signed in or not, the page itself decides (single sign-on, or the sign-in form).
  { path: '/oidc/:uid', name: 'oidc', component: OidcView, meta: { title: 'Sign in to an application' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: NotFoundView, meta: { title: 'Not found' } },
];

export function makeRouter(history: RouterHistory = createWebHistory('/app/')): Router {
  const router = createRouter({ history, routes });
  router.beforeEach(async (to) => {
    const session = useSessionStore();
    await session.restore();
    if (to.meta.auth && !session.signedIn) return { name: 'login', query: { redirect: to.fullPath } };
    if (to.meta.admin && !session.isAdmin) return { name: 'home' };
    if (to.meta.guest && session.signedIn) {
      // Sent by a reverse proxy while already signed in: straight back to the application (forward authentication).
      const next = to.name === 'login' ? signInDestination(to.query.redirect) : { path: '/' };
      if ('href' in next) {
        window.location.assign(next.href);
        return false;
      }
      return { name: 'home' };
    }
    return true;
  });
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · Twofold` : 'Twofold';
  });
  return router;
}
