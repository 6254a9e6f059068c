export { AdminPage } from './admin-page.js';
export { BasePage } from './base-page.js';
export { HomePage } from './home-page.js';
export { LoginPage, type MfaMethod } from './login-page.js';
export { ProductsPage, type ProductFields } from './products-page.js';
export { RegisterPage, type Registration } from './register-page.js';
export { SecurityPage } from './security-page.js';
export { TokenPage } from './token-page.js';
export { ReauthDialog } from './reauth-dialog.js';
