import { z } from 'zod';

/** What the console needs to sign an administrator in, served anonymously beside the console's files. */
const consoleConfigSchema = z.object({
  clientId: z.string().min(1),
  authority: z.url(),
  knownAuthorities: z.array(z.string()),
  scopes: z.array(z.string()).min(1),
});

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export async function loadConsoleConfig(consoleBase: URL): Promise<ConsoleConfig> {
  const url = new URL('config', consoleBase);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch (error) {
    throw new Error(
      `The console could not load its sign-in settings from ${url.href} (${error instanceof Error ? error.message : String(error)}).`,
      { cause: error },
    );
  }
  if (!response.ok) {
    throw new Error(`The console's sign-in settings (${url.href}) answered ${response.status}.`);
  }
  const parsed = consoleConfigSchema.safeParse(await response.json());
  if (!parsed.success) {
    throw new Error(
      `The console's sign-in settings are incomplete: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}.`,
    );
  }
  return parsed.data;
}
