import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { setAuthHooks } from './api/client';
import { makeRouter } from './router/index';
import { useSessionStore } from './stores/session';
import './styles.css';

const pinia = createPinia();
const router = makeRouter();
const app = createApp(App).use(pinia).use(router);
const session = useSessionStore(pinia);

setAuthHooks({
  token: () => session.accessToken,
  refresh: () => session.refresh(),
  reauthenticate: () => session.requestReauth(),
  expired: () => {
    session.expire();
    const here = router.currentRoute.value;
    if (here.name !== 'login') void router.push({ name: 'login', query: { redirect: here.fullPath } });
  },
});

app.mount('#app');
