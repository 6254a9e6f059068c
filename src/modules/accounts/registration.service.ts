import type { ClientInfo } from '../../http/client-info.js';
import type { AuditService } from '../audit/audit.service.js';
import type { AccountsService, Registration, User } from './accounts.service.js';

export interface RegistrationService {
  /**
   * Self-registration over HTTP: the account, its line in the audit trail, and the link that proves
   * its address (mailed in the background, so the answer does not wait for the mail server). The
   * command line's `user create` calls AccountsService.register directly: an operator, not a sign-up.
   */
  register(input: Registration, client: ClientInfo): Promise<User>;
}

export interface RegistrationDeps {
  accounts: Pick<AccountsService, 'register'>;
  audit: AuditService;
  /**
   * Mails the verification link of a new account's address, in the background (the recovery module, above accounts:
   * wired in src/services.ts).
   */
  sendEmailVerification(user: User): void;
}

export function createRegistrationService({
  accounts,
  audit,
  sendEmailVerification,
}: RegistrationDeps): RegistrationService {
  return {
    async register(input, client) {
      const user = await accounts.register(input);
      await audit.record({
        ...client,
        type: 'user.registered',
        userId: user.id,
        detail: { email: user.email !== null },
      });
      sendEmailVerification(user);
      return user;
    },
  };
}
