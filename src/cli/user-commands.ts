import { CommanderError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { isRole, ROLES } from '../modules/accounts/accounts.service.js';
import { CLI_ACTOR } from '../modules/admin/admin.service.js';
import { findUser, withServices } from './with-services.js';

function parseRole(value: string): (typeof ROLES)[number] {
  if (!isRole(value))
    throw new CommanderError(2, 'twofold.role', `Unknown role "${value}"; use one of: ${ROLES.join(', ')}.`);
  return value;
}

async function unlockUser(username: string): Promise<void> {
  await withServices(loadConfig(), async (services) =>
    services.admin.updateUser((await findUser(services, username)).id, { locked: false }, CLI_ACTOR),
  );
  console.log(`${username} is unlocked: the lock and the count of failed attempts are cleared.`);
}

/** `twofold user create|set-role|reset-2fa|unlock|delete`: the admin service's actions, by the actor "cli". */
export function addUserCommands(program: Command): void {
  const user = program.command('user').description('manage accounts');
  user
    .command('create')
    .description('create an account')
    .requiredOption('--username <username>', 'the username')
    .requiredOption('--password <password>', 'the password')
    .option('--email <email>', 'email address')
    .option('--role <role>', `role (${ROLES.join(', ')})`, 'user')
    .action(async (options: { username: string; password: string; email?: string; role: string }) => {
      const role = parseRole(options.role);
      // Registration always creates a plain user; a role is an administrator's separate decision.
      const created = await withServices(loadConfig(), async ({ accounts, admin }) => {
        const registered = await accounts.register({
          username: options.username,
          password: options.password,
          email: options.email,
        });
        return role === registered.role ? registered : admin.updateUser(registered.id, { role }, CLI_ACTOR);
      });
      console.log(`Created user ${created.username} (id ${created.id}, role ${created.role}).`);
    });
  user
    .command('set-role')
    .description("change a user's role")
    .argument('<username>')
    .argument('<role>', ROLES.join(' or '))
    .action(async (username: string, roleName: string) => {
      const role = parseRole(roleName);
      await withServices(loadConfig(), async (services) =>
        services.admin.updateUser((await findUser(services, username)).id, { role }, CLI_ACTOR),
      );
      console.log(`${username} now has role ${role}.`);
    });
  user
    .command('reset-2fa')
    .description("remove a user's second factors and passkeys (lost device); ends the user's sessions")
    .argument('<username>')
    .action(async (username: string) => {
      await withServices(loadConfig(), async (services) =>
        services.admin.resetTwoFactor((await findUser(services, username)).id, CLI_ACTOR),
      );
      console.log(
        `Removed every second factor of ${username} (passkeys included) and ended their sessions; they can sign in with their password and set up 2FA again.`,
      );
    });
  user
    .command('unlock')
    .description("lift a user's lock (an administrator's or a brute-force lockout) and clear the failure count")
    .argument('<username>')
    .action(async (username: string) => unlockUser(username));
  user
    .command('delete')
    .description(
      'delete an account: its sessions end, its data goes, its audit events stay without personal data (not the last admin)',
    )
    .argument('<username>')
    .action(async (username: string) => {
      await withServices(loadConfig(), async (services) =>
        services.admin.deleteUser((await findUser(services, username)).id, CLI_ACTOR),
      );
      console.log(`Deleted ${username}: their sessions have ended and the name is free again.`);
    });
}
